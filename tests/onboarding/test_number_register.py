import hashlib
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import pytest

from apps.abuse.services import blacklist_add
from apps.core import keys
from apps.core.phone import mobile_parse
from apps.core.redis import get_redis
from apps.core.system_settings import system_setting_set
from apps.onboarding.services.registration import onboard_hash_compute

pytestmark = pytest.mark.django_db


def register(api, creds, number="9876543210"):
    return api.get(f"/onboard/register/{number}", **creds.auth)


def test_it_registers_a_number_and_answers_with_the_sms_to_send(api, client_creds):
    before = datetime.now(UTC)
    response = register(api, client_creds, "+91 98765 43210")

    assert response.status_code == 200
    body = response.json()
    assert body["mobile_number"] == "9876543210"
    assert body["status"] == "pending"
    assert len(body["hash"]) == 64
    assert body["sms_body"] == f"ONBOARD:{body['hash']}"
    assert body["sms_to"] == "+919000000000"
    assert body["sms_link"].startswith("sms:+919000000000?body=")
    assert unquote(body["sms_link"].split("body=", 1)[1]) == body["sms_body"]
    assert get_redis().get(keys.onboard_hash("9876543210")) == body["hash"]
    assert 86390 <= get_redis().ttl(keys.onboard_hash("9876543210")) <= 86400
    expires_at = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert body["expires_at"].endswith("Z")
    assert abs(expires_at - (before + timedelta(seconds=86400))) < timedelta(seconds=5)


def test_the_hash_is_sha256_of_header_then_number_then_salt():
    expected = hashlib.sha256(b"ONBOARD9876543210ab").hexdigest()

    assert onboard_hash_compute(header="ONBOARD", mobile="9876543210", salt="ab") == expected


def test_it_keys_foreign_numbers_by_e164(api, client_creds):
    system_setting_set(key="allowed_country_codes", value=["91", "1"])

    response = register(api, client_creds, "+14155552671")

    assert response.status_code == 200
    assert response.json()["mobile_number"] == "+14155552671"
    assert get_redis().exists(keys.onboard_hash("+14155552671"))


def test_it_refuses_numbers_from_countries_that_may_not_onboard(api, client_creds):
    response = register(api, client_creds, "+14155552671")

    assert response.status_code == 400
    assert response.json()["code"] == "country_not_allowed"
    assert not get_redis().exists(keys.onboard_hash("+14155552671"))


def test_the_salt_has_salt_length_hex_characters(api, client_creds, monkeypatch):
    from apps.onboarding.services import registration

    salts = []
    real = registration.onboard_hash_compute

    def spy(*, header, mobile, salt):
        salts.append(salt)
        return real(header=header, mobile=mobile, salt=salt)

    monkeypatch.setattr(registration, "onboard_hash_compute", spy)
    system_setting_set(key="salt_length", value=24)

    register(api, client_creds)

    assert len(salts[0]) == 24
    int(salts[0], 16)


def test_a_second_register_returns_the_pending_hash_unchanged(api, client_creds):
    first = register(api, client_creds).json()
    second = register(api, client_creds).json()

    assert second["hash"] == first["hash"]
    assert abs(
        datetime.fromisoformat(second["expires_at"][:-1]) - datetime.fromisoformat(first["expires_at"][:-1])
    ) <= timedelta(seconds=1)


def test_it_uses_the_first_permitted_header(api, client_creds):
    system_setting_set(key="permitted_headers", value=["VERIFY", "ONBOARD"])

    body = register(api, client_creds).json()

    assert body["sms_body"].startswith("VERIFY:")


@pytest.mark.parametrize("number", ["12345", "not-a-number", "+91123", "0" * 40, "2212345678"])
def test_it_rejects_invalid_numbers(api, client_creds, number):
    response = register(api, client_creds, number)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_mobile_number"


def test_it_rejects_blacklisted_number(api, client_creds):
    blacklist_add(mobile=mobile_parse("9876543210"), source="test")

    response = register(api, client_creds)

    assert response.status_code == 403
    assert response.json() == {"detail": "This number is blacklisted.", "code": "blacklisted"}
    assert not get_redis().exists(keys.onboard_hash("9876543210"))


def test_it_rejects_already_onboarded_number(api, client_creds):
    get_redis().sadd(keys.out_sms_numbers(), "9876543210")

    response = register(api, client_creds)

    assert response.status_code == 409
    assert response.json()["code"] == "already_onboarded"


def test_it_rate_limits_registrations_per_number(api, client_creds):
    system_setting_set(key="register_per_number_per_hour", value=2)

    codes = [register(api, client_creds).status_code for _ in range(3)]

    assert codes == [200, 200, 429]
    limited = register(api, client_creds)
    assert limited.json()["code"] == "rate_limited"
    assert 1 <= int(limited["Retry-After"]) <= 3600


def test_it_rate_limits_registrations_per_client(api, client_creds):
    system_setting_set(key="register_rate_per_minute", value=1)

    assert register(api, client_creds, "9876543210").status_code == 200
    limited = register(api, client_creds, "9876543211")

    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer wrong-key", "Basic abc", "Token x"])
def test_it_refuses_missing_or_wrong_api_keys(api, client_creds, header):
    kwargs = {"HTTP_AUTHORIZATION": header} if header else {}

    response = api.get("/onboard/register/9876543210", **kwargs)

    assert response.status_code == 401
    assert set(response.json()) == {"detail", "code"}
    assert not get_redis().exists(keys.onboard_hash("9876543210"))


def test_a_revoked_key_stops_working(api, client_creds, django_capture_on_commit_callbacks):
    from apps.clients.models import ApiKey
    from apps.clients.services import api_key_revoke

    assert register(api, client_creds).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        api_key_revoke(api_key=ApiKey.objects.get())

    assert register(api, client_creds).status_code == 401


def test_register_runs_no_sql(api, client_creds, warm_hot_path, django_assert_num_queries):
    warm_hot_path()
    register(api, client_creds, "9876543219")  # first use of the key loads nothing from SQL either

    with django_assert_num_queries(0):
        response = register(api, client_creds)

    assert response.status_code == 200


def test_after_redis_lost_its_data_register_waits_for_the_repair(api, client_creds):
    from apps.clients.services import api_key_directory
    from apps.onboarding.services.repair import redis_repair

    get_redis().flushdb()
    api_key_directory.forget_local()

    waiting = register(api, client_creds)
    assert waiting.status_code == 503
    assert waiting.json()["code"] == "warming_up"
    assert int(waiting["Retry-After"]) > 0

    redis_repair()

    assert register(api, client_creds).status_code == 200
    assert get_redis().hlen(keys.api_keys()) == 2  # the key and the sentinel
