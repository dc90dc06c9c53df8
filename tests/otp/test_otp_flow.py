"""Request, verify, status: the contract of the three endpoints, in-process, Redis only."""

import hashlib
import json
import time
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.audit.payloads import MonitorEventRecord
from apps.core import keys
from apps.core.redis import get_redis
from apps.core.system_settings import system_setting_set

from .conftest import NUMBER, code_of, otp_status, queued_sms, request_otp, verify_otp

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("console")]


def events() -> list[MonitorEventRecord]:
    return [
        MonitorEventRecord.from_json(raw)
        for raw in reversed(get_redis().lrange(keys.sms_monitor_queue(), 0, -1))
    ]


def test_a_code_is_requested_sent_as_a_sensitive_sms_and_verified_once(api: Any, client_creds: Any) -> None:
    answer = request_otp(api, client_creds, mobile="+91 98765 43210")
    assert answer.status_code == 202, answer.content
    body = answer.json()
    assert body["mobile_number"] == NUMBER and body["expires_in_seconds"] == 300
    assert body["expires_at"].endswith("Z")
    assert answer["RateLimit-Limit"] == "600"
    sms = queued_sms(body["notification_id"])
    assert sms.to == "+919876543210" and sms.sensitive and sms.client_id == client_creds.id
    code = code_of(answer)
    assert len(code) == 6
    assert sms.body == f"Your verification code is {code}. It expires in 5 minutes."
    live = get_redis().hgetall(keys.notification(body["notification_id"]))
    assert live["status"] == "queued" and live["client_id"] == client_creds.id

    ok = verify_otp(api, client_creds, code)
    assert ok.status_code == 200, ok.content
    assert ok.json() == {"mobile_number": NUMBER, "verified": True}
    again = verify_otp(api, client_creds, code)
    assert again.status_code == 410 and again.json()["code"] == "otp_expired"
    assert [e.status for e in events()] == ["otp_requested", "otp_verified", "otp_failed"]
    assert events()[0].client_ids == (client_creds.id,) and events()[0].country_code == "91"


def test_the_stored_record_holds_neither_the_code_nor_its_plain_sha256(api: Any, client_creds: Any) -> None:
    answer = request_otp(api, client_creds)
    code = code_of(answer)
    raw = str(get_redis().get(keys.otp(client_creds.id, NUMBER)))
    record = json.loads(raw)
    assert set(record) == {"v", "otp_hash", "mobile_number", "created_at", "expires_at", "notification_id"}
    assert record["notification_id"] == answer.json()["notification_id"]
    assert record["mobile_number"] == NUMBER and record["expires_at"].endswith("Z")
    assert code not in raw
    for plain in (code, NUMBER + code, code + NUMBER, f"{client_creds.id}:{NUMBER}:{code}"):
        assert hashlib.sha256(plain.encode()).hexdigest() not in raw
    assert 295 < get_redis().ttl(keys.otp(client_creds.id, NUMBER)) <= 300
    # Nor does anything the drains keep: the queued notification event is redacted.
    assert all(code not in e for e in get_redis().lrange(keys.notification_events(), 0, -1))
    assert all(code not in e for e in get_redis().lrange(keys.sms_monitor_queue(), 0, -1))


def test_a_second_request_while_a_code_is_alive_is_409_with_retry_after(api: Any, client_creds: Any) -> None:
    request_otp(api, client_creds)
    again = request_otp(api, client_creds)
    assert again.status_code == 409
    body = again.json()
    assert body["code"] == "otp_active" and 295 <= body["retry_after"] <= 300
    assert again["Retry-After"] == str(body["retry_after"])
    assert get_redis().llen(keys.notification_queue()) == 1


def test_attempts_count_down_then_even_the_right_code_is_429(api: Any, client_creds: Any) -> None:
    code = code_of(request_otp(api, client_creds))
    wrong = "000000" if code != "000000" else "111111"
    left = []
    for _ in range(4):
        answer = verify_otp(api, client_creds, wrong)
        assert answer.status_code == 400
        assert answer.json()["verified"] is False and answer.json()["code"] == "otp_wrong"
        left.append(answer.json()["attempts_left"])
    assert left == [4, 3, 2, 1]
    fifth = verify_otp(api, client_creds, wrong)
    assert fifth.status_code == 429 and fifth.json()["code"] == "otp_blocked"
    right = verify_otp(api, client_creds, code)
    assert right.status_code == 429 and right.json()["code"] == "otp_blocked"
    assert 3590 <= int(right["Retry-After"]) <= 3600
    assert right["RateLimit-Limit"] == "5" and right["RateLimit-Remaining"] == "0"
    assert 3590 <= get_redis().ttl(keys.otp_attempts(client_creds.id, NUMBER)) <= 3600
    status = otp_status(api, client_creds).json()
    assert status == {"mobile_number": NUMBER, "active": False, "expires_in_seconds": 0, "attempts_left": 0}
    # A new code for a blocked number would be wasted: refused until the block ends.
    refused = request_otp(api, client_creds)
    assert refused.status_code == 429 and refused.json()["code"] == "otp_blocked"
    assert [e.status for e in events()][-3:] == ["otp_blocked", "otp_blocked", "otp_blocked"]


def test_a_right_code_clears_the_failed_attempts(api: Any, client_creds: Any) -> None:
    code = code_of(request_otp(api, client_creds))
    assert verify_otp(api, client_creds, "9" * 7).json()["attempts_left"] == 4
    assert verify_otp(api, client_creds, code).status_code == 200
    assert not get_redis().exists(keys.otp_attempts(client_creds.id, NUMBER))


def test_a_code_expires_after_its_ttl(api: Any, client_creds: Any) -> None:
    system_setting_set(key="otp_ttl_seconds", value=2)  # 2 s: the checks before the wait fit in it
    answer = request_otp(api, client_creds)
    assert answer.json()["expires_in_seconds"] == 2
    assert "It expires in 1 minutes." in queued_sms(answer.json()["notification_id"]).body
    code = code_of(answer)
    assert otp_status(api, client_creds).json()["active"] is True
    time.sleep(2.2)
    assert verify_otp(api, client_creds, code).status_code == 410
    assert otp_status(api, client_creds).json()["active"] is False
    assert request_otp(api, client_creds).status_code == 202  # a new one may be requested


def test_a_client_cannot_verify_another_clients_code(api: Any, make_client: Any) -> None:
    acme, other = make_client("Acme"), make_client("Other")
    code = code_of(request_otp(api, acme))
    theirs = verify_otp(api, other, code)
    assert theirs.status_code == 410
    assert otp_status(api, other).json()["active"] is False
    assert not get_redis().exists(keys.otp_attempts(acme.id, NUMBER))  # nothing spent of Acme's
    assert verify_otp(api, acme, code).status_code == 200
    # And each client gets its own code for the same number.
    assert request_otp(api, other).status_code == 202


def test_status_shows_the_remaining_time_and_attempts(api: Any, client_creds: Any) -> None:
    assert otp_status(api, client_creds).json() == {
        "mobile_number": NUMBER,
        "active": False,
        "expires_in_seconds": 0,
        "attempts_left": 5,
    }
    request_otp(api, client_creds)
    verify_otp(api, client_creds, "0000")
    status = otp_status(api, client_creds).json()
    assert status["active"] is True and 295 <= status["expires_in_seconds"] <= 300
    assert status["attempts_left"] == 4


def test_request_verify_and_status_run_no_sql(api: Any, client_creds: Any, warm_hot_path: Any) -> None:
    request_otp(api, client_creds, mobile="9876500000")  # warms the key, settings and policy caches
    verify_otp(api, client_creds, "0000", mobile="9876500000")
    warm_hot_path()
    with CaptureQueriesContext(connection) as queries:
        answer = request_otp(api, client_creds, end_user_ip="203.0.113.7")
        code = code_of(answer)
        assert verify_otp(api, client_creds, "0" * 6 if code != "0" * 6 else "1" * 6).status_code == 400
        assert otp_status(api, client_creds).status_code == 200
        assert verify_otp(api, client_creds, code, end_user_ip="203.0.113.7").status_code == 200
    assert answer.status_code == 202
    assert len(queries) == 0, [q["sql"] for q in queries.captured_queries]


def test_the_code_length_and_template_are_settings(api: Any, client_creds: Any) -> None:
    system_setting_set(key="otp_code_length", value=8)
    system_setting_set(key="otp_message_template", value="{code} is your Acme code")
    answer = request_otp(api, client_creds)
    body = queued_sms(answer.json()["notification_id"]).body
    code = body.split(" ", 1)[0]
    assert len(code) == 8 and code.isdigit() and body == f"{code} is your Acme code"
    assert verify_otp(api, client_creds, code).status_code == 200
