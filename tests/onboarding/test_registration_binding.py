"""A proof completes exactly the registration whose hash it carries, and nothing else.

The attack these tests stand for: someone types a victim's number into their own account
(another client app, or another account of the same app) and waits for the victim's SMS.
"""

import json

import pytest

from apps.core import keys
from apps.core.redis import get_redis
from apps.onboarding.payloads import VerifiedRecord
from apps.onboarding.services.pipeline import sms_validate_pending
from tests.helpers import send_native

pytestmark = pytest.mark.django_db

NUMBER = "9876543210"


@pytest.fixture
def gateway(make_gateway):
    return make_gateway("native")


def register(api, creds, number=NUMBER, **query):
    return api.get(f"/onboard/register/{number}", query, **creds.auth).json()


def status_of(api, creds, registration_id):
    query = {"registration_id": registration_id}
    return api.get(f"/onboard/status/{NUMBER}", query, **creds.auth).json()["status"]


def verdicts() -> list[dict]:
    events = [json.loads(e) for e in get_redis().lrange(keys.sms_monitor_queue(), 0, -1)]
    return [e for e in events if e["status"] in {"valid", "invalid"}]


def verified_records() -> list[VerifiedRecord]:
    return [VerifiedRecord.from_json(x) for x in get_redis().lrange(keys.out_sms_queue(), 0, -1)]


def test_the_sms_completes_only_the_registration_whose_hash_it_carries(api, gateway, make_client):
    victim_app, attacker_app = make_client("Victim app"), make_client("Attacker app")
    victims = register(api, victim_app, reference="user-1")
    attackers = register(api, attacker_app, reference="evil")

    send_native(api, gateway.secret, NUMBER, victims["sms_body"])
    sms_validate_pending()

    [record] = verified_records()
    assert (record.client_id, record.registration_id, record.reference) == (
        victim_app.id,
        victims["registration_id"],
        "user-1",
    )
    assert record.client_ids == (victim_app.id,)
    assert status_of(api, victim_app, victims["registration_id"]) == "verified"
    assert status_of(api, attacker_app, attackers["registration_id"]) == "expired"
    assert verdicts()[0]["client_ids"] == [victim_app.id]


def test_two_sessions_of_one_client_are_told_apart(api, gateway, client_creds):
    first, second = register(api, client_creds), register(api, client_creds)

    send_native(api, gateway.secret, NUMBER, first["sms_body"])
    sms_validate_pending()

    [record] = verified_records()
    assert record.registration_id == first["registration_id"]
    assert status_of(api, client_creds, first["registration_id"]) == "verified"
    assert status_of(api, client_creds, second["registration_id"]) == "expired"


def test_after_the_proof_the_other_hashes_prove_nothing(api, gateway, make_client):
    victim_app, attacker_app = make_client("Victim app"), make_client("Attacker app")
    victims, attackers = register(api, victim_app), register(api, attacker_app)
    send_native(api, gateway.secret, NUMBER, victims["sms_body"], message_id="proof")
    sms_validate_pending()

    send_native(api, gateway.secret, NUMBER, attackers["sms_body"], message_id="late")
    send_native(api, gateway.secret, NUMBER, victims["sms_body"], message_id="replay")
    sms_validate_pending()

    assert [(v["status"], v["reason"]) for v in reversed(verdicts())] == [
        ("valid", ""),
        ("invalid", "duplicate"),
        ("invalid", "duplicate"),
    ]
    assert len(verified_records()) == 1


def test_a_hash_sent_from_another_phone_proves_nothing(api, gateway, client_creds):
    registration = register(api, client_creds)

    send_native(api, gateway.secret, "9876543211", registration["sms_body"])
    sms_validate_pending()

    [verdict] = verdicts()
    assert (verdict["status"], verdict["reason"]) == ("invalid", "header_hash")
    assert status_of(api, client_creds, registration["registration_id"]) == "pending"


def test_an_ended_registrations_hash_proves_nothing(api, gateway, make_client):
    from apps.core.system_settings import system_setting_set

    system_setting_set(key="register_per_client_number_per_hour", value=100)
    crowd = [make_client(f"Client {n}") for n in range(6)]
    dropped, *_ = [register(api, creds) for creds in crowd]  # the sixth ends the oldest

    send_native(api, gateway.secret, NUMBER, dropped["sms_body"])
    sms_validate_pending()

    [verdict] = verdicts()
    assert (verdict["status"], verdict["reason"]) == ("invalid", "header_hash")
    assert status_of(api, crowd[0], dropped["registration_id"]) == "expired"


def test_no_registration_key_outlives_the_proof_by_more_than_a_day(api, gateway, client_creds):
    registration = register(api, client_creds)

    send_native(api, gateway.secret, NUMBER, registration["sms_body"])
    sms_validate_pending()

    r = get_redis()
    assert not r.exists(keys.onboard_hash(NUMBER))
    assert 0 < r.pttl(keys.onboard_regs(NUMBER)) <= keys.ONBOARD_ENDED_KEEP_MS
    assert not r.exists(keys.abuse_counter(NUMBER))


def test_an_old_worker_record_without_a_registration_still_reaches_its_clients():
    old: dict[str, object] = {
        "sms_uuid": "u",
        "mobile": NUMBER,
        "country_code": "91",
        "sender_number": NUMBER,
    }
    old |= {"sms_message": "m", "gateway_id": None, "received_at": "2026-01-01T00:00:00+00:00"}
    old |= {"verified_at": 1.0, "client_ids": ["a", "b"]}

    record = VerifiedRecord.from_json(json.dumps(old))

    assert record.client_ids == ("a", "b")
    assert VerifiedRecord.from_json(record.to_json()) == record
