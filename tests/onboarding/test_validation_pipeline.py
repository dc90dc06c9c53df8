"""The validation pipeline run in-process on real Redis: one test per check's failure.

The worker-driven path is covered end to end in tests/e2e.
"""

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from apps.abuse.services import blacklist_add
from apps.core import keys
from apps.core.phone import mobile_parse
from apps.core.queues import queue_depth
from apps.core.redis import get_redis
from apps.core.system_settings import CHECK_NAMES, system_setting_set
from apps.onboarding.payloads import VerifiedRecord
from apps.onboarding.services.pipeline import sms_validate_pending
from tests.helpers import send_native

pytestmark = pytest.mark.django_db

NUMBER = "9876543210"


@pytest.fixture
def gateway(make_gateway):
    return make_gateway("native")


@pytest.fixture
def registered(api, client_creds):
    return api.get(f"/onboard/register/{NUMBER}", **client_creds.auth).json()


def judge(api, gateway, sender, body, **fields) -> dict:
    """Deliver one SMS, run the pipeline, and return its monitor event."""
    uuid = send_native(api, gateway.secret, sender, body, **fields).json()["uuid"]
    sms_validate_pending()
    events = [json.loads(e) for e in get_redis().lrange(keys.sms_monitor_queue(), 0, -1)]
    [event] = [e for e in events if e["sms_uuid"] == uuid]
    return event


def test_a_correct_sms_is_valid_and_verifies_the_number(api, gateway, registered, client_creds):
    event = judge(api, gateway, "+91" + NUMBER, registered["sms_body"])

    assert event["status"] == "valid"
    assert event["reason"] == ""
    assert event["check_results"] == dict.fromkeys(CHECK_NAMES, 1)
    assert event["client_ids"] == [client_creds.id]
    assert event["registration_id"] == registered["registration_id"]
    r = get_redis()
    assert r.sismember(keys.out_sms_numbers(), NUMBER)
    assert not r.exists(keys.onboard_hash(NUMBER))
    assert not r.exists(keys.abuse_counter(NUMBER))  # a proof is no abuse
    [record] = [VerifiedRecord.from_json(x) for x in r.lrange(keys.out_sms_queue(), 0, -1)]
    assert record.mobile == NUMBER
    assert (record.client_id, record.registration_id) == (client_creds.id, registered["registration_id"])
    assert record.client_ids == (client_creds.id,)
    assert queue_depth(keys.sms_inbound_queue()) == 0


def test_it_fails_the_mobile_check_for_a_sender_that_is_not_a_mobile_number(api, gateway, registered):
    event = judge(api, gateway, "HDFC-BANK", registered["sms_body"])

    assert (event["status"], event["reason"]) == ("invalid", "mobile")
    assert event["check_results"]["mobile"] == 2
    assert event["check_results"]["foreign_number"] == 0


def test_it_fails_the_foreign_number_check_outside_allowed_countries(api, gateway, client_creds):
    system_setting_set(key="allowed_country_codes", value=["91", "1"])
    body = api.get("/onboard/register/+14155552671", **client_creds.auth).json()["sms_body"]
    system_setting_set(key="allowed_country_codes", value=["91"])

    event = judge(api, gateway, "+14155552671", body)

    assert (event["status"], event["reason"]) == ("invalid", "foreign_number")


def test_it_fails_the_blacklist_check(api, gateway, registered):
    blacklist_add(mobile=mobile_parse(NUMBER), source="test")

    event = judge(api, gateway, NUMBER, registered["sms_body"])

    assert (event["status"], event["reason"]) == ("invalid", "blacklist")
    assert not get_redis().sismember(keys.out_sms_numbers(), NUMBER)


def test_it_fails_the_duplicate_check_for_a_verified_number(api, gateway, registered):
    get_redis().sadd(keys.out_sms_numbers(), NUMBER)

    event = judge(api, gateway, NUMBER, registered["sms_body"])

    assert (event["status"], event["reason"]) == ("invalid", "duplicate")


def test_a_second_valid_sms_in_the_same_batch_is_a_duplicate(api, gateway, registered):
    send_native(api, gateway.secret, NUMBER, registered["sms_body"], message_id="one")
    send_native(api, gateway.secret, NUMBER, registered["sms_body"], message_id="two")

    sms_validate_pending()

    events = [json.loads(e) for e in get_redis().lrange(keys.sms_monitor_queue(), 0, -1)]
    verdicts = sorted((e["status"], e["reason"]) for e in events if e["status"] != "onboard_requested")
    assert verdicts == [("invalid", "duplicate"), ("valid", "")]
    assert get_redis().llen(keys.out_sms_queue()) == 1


@pytest.mark.parametrize(
    "body",
    ["ONBOARD:" + "0" * 64, "HELLO", "", "SPAM:{hash}", "ONBOARD {hash} extra"],
)
def test_it_fails_the_header_hash_check_for_a_wrong_body(api, gateway, registered, body):
    event = judge(api, gateway, NUMBER, body.format(hash=registered["hash"]) or " ")

    assert (event["status"], event["reason"]) == ("invalid", "header_hash")
    assert get_redis().exists(keys.onboard_hash(NUMBER))


def test_it_fails_the_header_hash_check_without_a_registration(api, gateway):
    event = judge(api, gateway, NUMBER, "ONBOARD:" + "a" * 64)

    assert (event["status"], event["reason"]) == ("invalid", "header_hash")


@pytest.mark.parametrize("offset", [timedelta(hours=-2), timedelta(hours=1)])
def test_it_fails_the_time_window_check_for_stale_or_future_sms(api, gateway, registered, offset):
    stamp = (datetime.now(UTC) + offset).isoformat()

    event = judge(api, gateway, NUMBER, registered["sms_body"], received_timestamp=stamp)

    assert (event["status"], event["reason"]) == ("invalid", "time_window")


def test_it_fails_the_time_window_check_after_the_hash_expired(api, gateway, registered):
    r = get_redis()
    entry = json.loads(str(r.hget(keys.onboard_regs(NUMBER), registered["hash"])))
    entry["expires_at"] = int(time.time() * 1000) + 60_000  # expires in a minute
    r.hset(keys.onboard_regs(NUMBER), registered["hash"], json.dumps(entry))
    stamp = (datetime.now(UTC) + timedelta(seconds=90)).isoformat()  # within the clock-skew allowance

    event = judge(api, gateway, NUMBER, registered["sms_body"], received_timestamp=stamp)

    assert (event["status"], event["reason"]) == ("invalid", "time_window")


def test_disabled_checks_are_recorded_as_skipped(api, gateway, registered, settings):
    settings.DEBUG = True  # switching a security check off is refused outside debug
    system_setting_set(key="check_enabled", value={"blacklist": False, "time_window": False})
    get_redis().sadd(keys.blacklist_mobiles(), NUMBER)  # listed after the hash was issued

    event = judge(api, gateway, NUMBER, registered["sms_body"])

    assert event["status"] == "valid"
    assert event["check_results"]["blacklist"] == 3
    assert event["check_results"]["time_window"] == 3


def test_checks_run_in_the_configured_sequence(api, gateway, settings):
    settings.DEBUG = True  # leaving security checks out is refused outside debug
    system_setting_set(key="check_sequence", value=["header_hash", "mobile"])

    event = judge(api, gateway, "HDFC-BANK", "junk")

    assert event["reason"] == "header_hash"
    assert event["check_results"]["mobile"] == 0


def test_every_failed_sms_counts_towards_the_abuse_counter(api, gateway):
    for n in range(3):
        send_native(api, gateway.secret, NUMBER, "junk", message_id=f"m{n}")

    sms_validate_pending()

    r = get_redis()
    assert int(str(r.get(keys.abuse_counter(NUMBER)))) == 3
    assert 0 < r.ttl(keys.abuse_counter(NUMBER)) <= 86400


def test_a_batch_left_behind_by_a_dead_worker_is_judged_once(api, gateway, registered):
    from apps.core.queues import batch_claim

    send_native(api, gateway.secret, NUMBER, registered["sms_body"])
    orphan = batch_claim(queue=keys.sms_inbound_queue(), size=10)  # claimed, never acked: the worker "died"
    assert orphan is not None and get_redis().llen(keys.sms_inbound_queue()) == 0

    sms_validate_pending()
    sms_validate_pending()

    events = [json.loads(e) for e in get_redis().lrange(keys.sms_monitor_queue(), 0, -1)]
    assert [e["status"] for e in events if e["status"] != "onboard_requested"] == ["valid"]
    assert queue_depth(keys.sms_inbound_queue()) == 0


def test_an_sms_queued_while_a_wake_up_was_pending_is_judged_and_the_next_one_wakes_a_worker(api, gateway):
    get_redis().set(keys.sms_inbound_kick(), "1", px=60_000)  # a task was just woken for an earlier SMS
    first = send_native(api, gateway.secret, NUMBER, "junk", message_id="during")
    assert get_redis().exists(keys.sms_inbound_kick())  # so this SMS woke nobody

    sms_validate_pending()  # the woken task's run

    assert get_redis().get(keys.sms_verdict(first.json()["uuid"]))
    assert not get_redis().exists(keys.sms_inbound_kick())
    assert queue_depth(keys.sms_inbound_queue()) == 0
    send_native(api, gateway.secret, NUMBER, "junk", message_id="after")
    assert get_redis().exists(keys.sms_inbound_kick())  # the next SMS set the mark: it woke a worker
