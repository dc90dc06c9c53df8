"""A client is told when its pending registration ends because of someone else: the
number was proved through another registration, or a newer one pushed it out. It learns
that much and no more (not who, nor which registration)."""

from typing import Any

import pytest

from apps.core.phone import mobile_parse
from apps.core.system_settings import system_setting_set
from apps.onboarding.services.pipeline import sms_validate_pending
from apps.onboarding.services.registration import number_register
from tests.helpers import send_native

from .test_appends import NUMBER, own

pytestmark = pytest.mark.django_db


def test_the_losing_registrations_client_reads_registration_expired_and_nothing_of_the_winner(
    api: Any, make_client: Any, make_gateway: Any
) -> None:
    winner_app, other_app = make_client("Winner app"), make_client("Other app")
    gateway = make_gateway("native")
    theirs = number_register(mobile=mobile_parse(NUMBER), client_id=other_app.id)
    won = api.get(f"/onboard/register/{NUMBER}", **winner_app.auth).json()

    send_native(api, gateway.secret, NUMBER, won["sms_body"])
    sms_validate_pending()

    (ended,) = own(other_app.id, "registration.expired")
    assert ended["data"] == {
        "registration_id": theirs.registration_id,
        "mobile_number": NUMBER,
        "reason": "number_verified",
    }
    assert won["registration_id"] not in str(own(other_app.id))
    assert own(winner_app.id, "registration.expired") == []
    assert [e["type"] for e in own(winner_app.id)] == ["registration.opened", "sms.judged", "number.verified"]


def test_a_registration_pushed_out_by_a_newer_one_is_told_to_its_client(make_client: Any) -> None:
    system_setting_set(key="register_per_client_number_per_hour", value=100)
    first_app, second_app = make_client("First app"), make_client("Second app")
    mobile = mobile_parse(NUMBER)
    oldest = number_register(mobile=mobile, client_id=first_app.id)
    for _ in range(4):  # five pending: the number is full
        number_register(mobile=mobile, client_id=second_app.id)

    number_register(mobile=mobile, client_id=second_app.id)  # pushes out its own oldest first
    number_register(mobile=mobile, client_id=first_app.id)  # pushes out first_app's own

    ended = own(first_app.id, "registration.expired")
    assert [e["data"]["registration_id"] for e in ended] == [oldest.registration_id]
    assert ended[0]["data"]["reason"] == "replaced"
    assert len(own(second_app.id, "registration.expired")) == 1
