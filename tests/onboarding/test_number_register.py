import hashlib
import json
import uuid
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


def register(api, creds, number="9876543210", **query):
    return api.get(f"/onboard/register/{number}", query, **creds.auth)


def stored_registrations(number="9876543210") -> dict[str, dict]:
    return {str(h): json.loads(raw) for h, raw in get_redis().hgetall(keys.onboard_regs(number)).items()}


def test_it_registers_a_number_and_answers_with_the_sms_to_send(api, client_creds):
    before = datetime.now(UTC)
    response = register(api, client_creds, "+91 98765 43210")

    assert response.status_code == 200
    body = response.json()
    assert body["mobile_number"] == "9876543210"
    assert body["status"] == "pending"
    assert uuid.UUID(body["registration_id"])
    assert len(body["hash"]) == 64
    assert body["sms_body"] == f"ONBOARD:{body['hash']}"
    assert body["sms_to"] == "+919000000000"
    assert body["sms_link"].startswith("sms:+919000000000?body=")
    assert unquote(body["sms_link"].split("body=", 1)[1]) == body["sms_body"]
    assert get_redis().get(keys.onboard_hash("9876543210")) == body["hash"]
    assert 86390 <= get_redis().ttl(keys.onboard_hash("9876543210")) <= 86400
    stored = stored_registrations()[body["hash"]]
    assert stored["registration_id"] == body["registration_id"]
    assert stored["client_id"] == client_creds.id
    assert stored["reference"] == ""
    assert abs(stored["expires_at"] / 1000 - (before.timestamp() + 86400)) < 5
    # Kept a day past the registration's end, never longer.
    assert 86400 < get_redis().ttl(keys.onboard_regs("9876543210")) <= 2 * 86400
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


def test_every_register_opens_a_new_registration_with_its_own_hash(api, make_client):
    acme, other = make_client("Acme"), make_client("Other")

    first = register(api, acme).json()
    second = register(api, acme).json()  # another session of the same client app
    third = register(api, other).json()

    assert len({first["hash"], second["hash"], third["hash"]}) == 3
    assert len({first["registration_id"], second["registration_id"], third["registration_id"]}) == 3
    stored = stored_registrations()
    assert {reg["client_id"] for reg in stored.values()} == {acme.id, other.id}
    assert set(stored) == {first["hash"], second["hash"], third["hash"]}
    assert get_redis().get(keys.onboard_hash("9876543210")) == third["hash"]  # the newest


@pytest.mark.parametrize("reference", ["account-42", 'Zoë 📱 "quoted" \\ back'])
def test_the_reference_is_stored_with_the_registration(api, client_creds, reference):
    body = register(api, client_creds, reference=reference).json()

    assert stored_registrations()[body["hash"]]["reference"] == reference


def test_a_reference_over_128_characters_is_refused(api, client_creds):
    response = register(api, client_creds, reference="x" * 129)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert not get_redis().exists(keys.onboard_regs("9876543210"))


def test_a_number_holds_at_most_five_pending_registrations(api, make_client):
    system_setting_set(key="register_per_client_number_per_hour", value=100)
    clients = [make_client(f"Client {n}") for n in range(5)]
    first_hashes = [register(api, creds).json()["hash"] for creds in clients]

    sixth = register(api, clients[4]).json()  # its own oldest registration makes room

    stored = stored_registrations()
    pending = {h for h, reg in stored.items() if "state" not in reg}
    assert pending == {*first_hashes[:4], sixth["hash"]}
    assert stored[first_hashes[4]]["state"] == "expired"


def test_a_client_without_a_pending_registration_ends_the_oldest_one(api, make_client):
    system_setting_set(key="register_per_client_number_per_hour", value=100)
    clients = [make_client(f"Client {n}") for n in range(6)]
    hashes = [register(api, creds).json()["hash"] for creds in clients]

    stored = stored_registrations()
    assert stored[hashes[0]]["state"] == "expired"
    assert {h for h, reg in stored.items() if "state" not in reg} == set(hashes[1:])


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


def test_the_per_number_limit_is_per_client(api, make_client):
    system_setting_set(key="register_per_client_number_per_hour", value=2)
    spammer, victim_app = make_client("Spammer"), make_client("Victim app")

    codes = [register(api, spammer).status_code for _ in range(3)]

    assert codes == [200, 200, 429]
    limited = register(api, spammer)
    assert limited.json()["code"] == "rate_limited"
    assert 1 <= int(limited["Retry-After"]) <= 3600
    assert limited["RateLimit-Limit"] == "2"
    assert limited["RateLimit-Remaining"] == "0"
    assert 0 < int(limited["RateLimit-Reset"]) <= 3600
    # The number is not locked out for another client.
    assert register(api, victim_app).status_code == 200


def test_a_ceiling_across_clients_caps_one_number(api, make_client):
    system_setting_set(key="register_per_number_per_hour", value=3)
    clients = [make_client(f"Client {n}") for n in range(4)]

    codes = [register(api, creds).status_code for creds in clients]

    assert codes == [200, 200, 200, 429]


def test_it_rate_limits_registrations_per_client(api, client_creds):
    system_setting_set(key="register_rate_per_minute", value=1)

    allowed = register(api, client_creds, "9876543210")
    limited = register(api, client_creds, "9876543211")

    assert allowed.status_code == 200
    assert allowed["RateLimit-Limit"] == "1"
    assert allowed["RateLimit-Remaining"] == "0"
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert limited.json()["retry_after"] == int(limited["Retry-After"])


def test_a_client_over_its_budget_cannot_probe_which_numbers_are_verified_or_blacklisted(api, client_creds):
    get_redis().sadd(keys.out_sms_numbers(), "9876543211")
    blacklist_add(mobile=mobile_parse("9876543212"), source="test")
    system_setting_set(key="register_rate_per_minute", value=2)
    assert register(api, client_creds, "9876543211").status_code == 409  # spends the budget too
    assert register(api, client_creds, "9876543212").status_code == 403

    answers = {register(api, client_creds, n).status_code for n in ("9876543211", "9876543212", "9876543213")}

    assert answers == {429}


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
    from apps.core.repair import redis_repair

    get_redis().flushdb()
    api_key_directory.forget_local()

    waiting = register(api, client_creds)
    assert waiting.status_code == 503
    assert waiting.json()["code"] == "warming_up"
    assert int(waiting["Retry-After"]) > 0

    redis_repair()

    assert register(api, client_creds).status_code == 200
    assert get_redis().hlen(keys.api_keys()) == 2  # the key and the sentinel
