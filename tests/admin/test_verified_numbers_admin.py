import uuid

import pytest

from apps.core import keys
from apps.core.models import OperatorAction
from apps.core.redis import get_redis
from apps.onboarding.models import OutSms
from apps.onboarding.services.unverify import number_unverify
from tests.factories import OutSmsFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/onboarding/outsms/"


def verified(mobile: str, gateway_id: uuid.UUID | None = None) -> OutSms:
    get_redis().sadd(keys.out_sms_numbers(), mobile)
    return OutSmsFactory.create(local_mobile=mobile, gateway_id=gateway_id)


def is_verified_in_redis(mobile: str) -> bool:
    return bool(get_redis().sismember(keys.out_sms_numbers(), mobile))


def test_unverify_clears_redis_and_the_row_of_the_selected_numbers_only(admin_client):
    gone, kept = verified("9876543210"), verified("9123456789")

    response = admin_client.post(
        CHANGELIST, {"action": "unverify", "_selected_action": [gone.pk], "post": "yes"}, follow=True
    )

    assert "Un-verified 1 number(s)." in [str(m) for m in response.context["messages"]]
    record = OperatorAction.objects.get()
    assert (record.action, record.actor, record.source, record.object_id) == (
        "number.unverify",
        "admin",
        "admin",
        "9876543210",
    )
    assert not is_verified_in_redis("9876543210")
    assert not OutSms.objects.filter(pk=gone.pk).exists()
    assert is_verified_in_redis("9123456789")
    assert OutSms.objects.filter(pk=kept.pk).exists()


def test_verified_numbers_are_listed_and_found_by_number(admin_client):
    verified("9876543210")
    verified("9123456789")

    response = admin_client.get(CHANGELIST, {"q": "+91 98765 43210"})

    assert [row.local_mobile for row in response.context["cl"].result_list] == ["9876543210"]


def test_a_row_cannot_be_deleted_on_its_own(admin_client):
    row = verified("9876543210")

    assert admin_client.post(f"{CHANGELIST}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert is_verified_in_redis("9876543210")


def test_number_unverify_reports_whether_the_number_was_verified():
    get_redis().sadd(keys.out_sms_numbers(), "9876543210")  # verified, row not drained yet

    assert number_unverify(mobile="9876543210") is True
    assert number_unverify(mobile="9876543210") is False


def test_unverify_asks_first_and_changes_nothing_without_a_yes(admin_client):
    row = verified("9876543210")

    response = admin_client.post(CHANGELIST, {"action": "unverify", "_selected_action": [row.pk]})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Un-verify these numbers?" in page and "9876543210" in page
    assert is_verified_in_redis("9876543210")
    assert OutSms.objects.filter(pk=row.pk).exists()
    assert not OperatorAction.objects.exists()


def test_the_confirmation_of_all_rows_across_pages_posts_back_select_across(admin_client):
    verified("9876543210")
    verified("9123456789")

    page = admin_client.post(
        CHANGELIST, {"action": "unverify", "_selected_action": ["ignored"], "select_across": "1"}
    ).content.decode()
    assert 'name="select_across" value="1"' in page
    assert "2 verified numbers" in page

    first_shown = OutSms.objects.values_list("pk", flat=True)[0]
    admin_client.post(
        CHANGELIST,
        {"action": "unverify", "_selected_action": [first_shown], "select_across": "1", "post": "yes"},
    )
    assert not OutSms.objects.exists()
    assert OperatorAction.objects.filter(action="number.unverify").count() == 2


def test_the_list_and_the_detail_name_the_gateway(admin_client, make_gateway):
    gateway = make_gateway("android")
    row = verified("9876543210", gateway_id=gateway.id)
    verified("9123456789", gateway_id=uuid.uuid4())  # a gateway deleted since

    listing = admin_client.get(CHANGELIST).content.decode()
    detail = admin_client.get(f"{CHANGELIST}{row.pk}/change/").content.decode()

    assert "android gateway" in listing and "android gateway" in detail
    assert "(deleted gateway" in listing


def test_number_unverify_with_an_actor_records_only_a_real_change():
    from apps.core.operator_log import Actor

    ops = Actor(name="os:ops", source="command")
    get_redis().sadd(keys.out_sms_numbers(), "9876543210")

    assert number_unverify(mobile="9876543210", actor=ops) is True
    assert number_unverify(mobile="9876543210", actor=ops) is False
    assert list(OperatorAction.objects.values_list("actor", "action")) == [("os:ops", "number.unverify")]
