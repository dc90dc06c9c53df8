"""The SMS-pumping guard: destination countries per client, a velocity limit per prefix,
the conversion watch that blocks a prefix for a cool-down, and the safe list."""

import time
from typing import Any

import pytest

from apps.core import keys
from apps.core.redis import get_redis
from apps.core.system_settings import system_setting_set
from apps.inbound.send_config import SendConfig
from apps.otp.models import OtpPolicy, OtpSafeNumber
from apps.otp.services.guard import otp_policy_save, otp_safe_number_add, otp_safe_number_remove

from .conftest import code_of, queued_sms, request_otp, verify_otp

pytestmark = pytest.mark.django_db

UK = "+447911123456"


@pytest.fixture
def console(make_gateway: Any) -> Any:
    return make_gateway("console")


def policy(client_id: str, capture: Any, **fields: Any) -> OtpPolicy:
    with capture(execute=True):
        return otp_policy_save(policy=OtpPolicy(client_id=client_id, **fields))


@pytest.mark.usefixtures("console")
def test_destinations_outside_the_clients_countries_are_403(
    api: Any, make_client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    acme, other = make_client("Acme"), make_client("Other")
    refused = request_otp(api, acme, mobile=UK)
    assert refused.status_code == 403 and refused.json()["code"] == "destination_not_permitted"
    policy(acme.id, django_capture_on_commit_callbacks, allowed_country_codes=["44"])
    assert request_otp(api, acme, mobile=UK).status_code == 202
    assert request_otp(api, acme).status_code == 403  # India is no longer in Acme's list
    assert request_otp(api, other).status_code == 202  # the setting still applies to others
    system_setting_set(key="otp_allowed_country_codes", value=["91", "44"])
    assert request_otp(api, other, mobile=UK).status_code == 202


@pytest.mark.usefixtures("console")
def test_a_clients_template_overrides_the_setting(
    api: Any, client_creds: Any, django_capture_on_commit_callbacks: Any
) -> None:
    policy(
        client_creds.id, django_capture_on_commit_callbacks, message_template="Acme: {code} ({minutes} min)"
    )
    answer = request_otp(api, client_creds)
    body = queued_sms(answer.json()["notification_id"]).body
    assert body.startswith("Acme: ") and body.endswith("(5 min)")


@pytest.mark.usefixtures("console")
def test_blacklisted_numbers_are_403_and_nothing_is_sent(api: Any, client_creds: Any) -> None:
    get_redis().sadd(keys.blacklist_mobiles(), "9876543210")
    answer = request_otp(api, client_creds)
    assert answer.status_code == 403 and answer.json()["code"] == "blacklisted"
    assert get_redis().llen(keys.notification_queue()) == 0
    assert not get_redis().exists(keys.otp(client_creds.id, "9876543210"))


def test_no_gateway_covering_the_number_is_403(api: Any, client_creds: Any, make_gateway: Any) -> None:
    assert request_otp(api, client_creds).status_code == 403
    make_gateway(
        "android", send=SendConfig(url="http://127.0.0.1:9", username="u", password="p"), countries=[44]
    )
    system_setting_set(key="otp_allowed_country_codes", value=["91", "44"])
    assert request_otp(api, client_creds).json()["code"] == "destination_not_permitted"
    assert request_otp(api, client_creds, mobile=UK).status_code == 202


@pytest.mark.usefixtures("console")
def test_the_velocity_limit_per_prefix_spares_safe_listed_numbers(
    api: Any, make_client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    system_setting_set(key="otp_prefix_per_window", value=3)
    acme, other = make_client("Acme"), make_client("Other")
    for n in range(3):
        assert request_otp(api, acme, mobile=f"987650000{n}").status_code == 202
    refused = request_otp(api, acme, mobile="9876500009")
    assert refused.status_code == 429 and refused.json()["code"] == "prefix_rate_limited"
    assert refused["RateLimit-Limit"] == "3" and int(refused["Retry-After"]) >= 1
    assert request_otp(api, acme, mobile="9812300000").status_code == 202  # another prefix
    assert request_otp(api, other, mobile="9876500009").status_code == 202  # another client
    with django_capture_on_commit_callbacks(execute=True):
        otp_safe_number_add(mobile="9876500009", note="QA phone")
    assert request_otp(api, acme, mobile="9876500009").status_code == 202
    with django_capture_on_commit_callbacks(execute=True):
        otp_safe_number_remove(safe=OtpSafeNumber.objects.get(mobile="9876500009"))
    assert not get_redis().sismember(keys.otp_safe_numbers(), "9876500009")


@pytest.mark.usefixtures("console")
def test_the_conversion_watch_blocks_a_prefix_then_lifts_it_after_the_cool_down(
    api: Any, make_client: Any
) -> None:
    system_setting_set(key="otp_ttl_seconds", value=1)
    system_setting_set(key="otp_conversion_min_requests", value=4)
    system_setting_set(key="otp_conversion_min_percent", value=50)
    # Cool-down a few seconds: the checks made while the prefix is blocked must fit in it
    # even when a loaded machine stalls the test for a moment.
    system_setting_set(key="otp_prefix_cooldown_seconds", value=4)
    acme, other = make_client("Acme"), make_client("Other")
    first = request_otp(api, acme, mobile="9876500000")  # verified at once, within its 1 s
    assert verify_otp(api, acme, code_of(first), mobile="9876500000").status_code == 200
    for n in range(1, 5):
        assert request_otp(api, acme, mobile=f"987650000{n}").status_code == 202
    time.sleep(1.1)  # the other four expire unverified: 1 of 5 verified, under 50 %
    tripped = request_otp(api, acme, mobile="9876500005")
    assert tripped.status_code == 429, tripped.content
    assert tripped.json()["code"] == "prefix_blocked" and int(tripped["Retry-After"]) == 4
    again = request_otp(api, acme, mobile="9876500006")
    assert again.status_code == 429 and again.json()["code"] == "prefix_blocked"
    assert request_otp(api, acme, mobile="9812300000").status_code == 202  # other prefixes flow
    assert request_otp(api, other, mobile="9876500006").status_code == 202  # and other clients
    members = get_redis().zrange(keys.otp_blocked_prefixes(), 0, -1)
    assert members == [f"{acme.id}:91-9876"]
    time.sleep(4.1)
    assert request_otp(api, acme, mobile="9876500007").status_code == 202  # counted afresh


@pytest.mark.usefixtures("console")
def test_codes_still_alive_are_not_judged(api: Any, client_creds: Any) -> None:
    system_setting_set(key="otp_conversion_min_requests", value=2)
    for n in range(5):  # none verified yet, but all still within their five minutes
        assert request_otp(api, client_creds, mobile=f"987650000{n}").status_code == 202
