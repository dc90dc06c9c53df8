"""The whole OTP flow with real processes: the HTTP API, Redis, a Celery worker sending the
SMS through a console gateway (its outbox is what the provider received), and the drains
that keep the monitor events and the redacted notification in PostgreSQL."""

import re
from typing import Any

import pytest

from apps.audit.models import MonitorEvent
from apps.messaging.models import Notification, OutboxMessage
from tests.polling import wait_for

from .conftest import NUMBER, request_otp, verify_otp

pytestmark = pytest.mark.slow  # the session's real worker and beat


def received_code(notification_id: str, logs: Any) -> str:
    message = wait_for(
        lambda: OutboxMessage.objects.filter(notification_id=notification_id).first(), message=logs
    )
    assert message.to.startswith("+91")
    found = re.search(r"\b(\d{6})\b", message.body)
    assert found, message.body
    return found.group(1)


def test_codes_go_out_through_the_worker_are_verified_once_and_wrong_ones_block(
    api: Any, celery_worker: Any, client_creds: Any, make_gateway: Any
) -> None:
    make_gateway("console")
    answer = request_otp(api, client_creds)
    assert answer.status_code == 202, answer.content
    notification_id = answer.json()["notification_id"]

    code = received_code(notification_id, celery_worker.logs)

    assert verify_otp(api, client_creds, code).json() == {"mobile_number": NUMBER, "verified": True}
    assert verify_otp(api, client_creds, code).status_code == 410
    status = api.get(f"/notifications/{notification_id}", **client_creds.auth).json()
    assert status["status"] == "sent"
    # The durable copy of the notification never holds the code.
    row = wait_for(
        lambda: Notification.objects.filter(id=notification_id).first(), message=celery_worker.logs
    )
    assert row.body == "" and row.body_redacted
    statuses = wait_for(
        lambda: (
            (s := set(MonitorEvent.objects.filter(mobile=NUMBER).values_list("status", flat=True)))
            >= {"otp_requested", "otp_verified", "otp_failed"}
            and s
        ),
        message=celery_worker.logs,
    )
    assert statuses == {"otp_requested", "otp_verified", "otp_failed"}
    # Then wrong codes block another number, even for the code its phone received. (In the
    # same test: the worker keeps its gateway list for seconds, and each test's gateway is new.)
    other = "9876543211"
    code = received_code(
        request_otp(api, client_creds, mobile=other).json()["notification_id"], celery_worker.logs
    )
    wrong = "000000" if code != "000000" else "111111"
    left = [verify_otp(api, client_creds, wrong, mobile=other).json().get("attempts_left") for _ in range(5)]
    assert left == [4, 3, 2, 1, 0]
    blocked = verify_otp(api, client_creds, code, mobile=other)
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) > 3500
    wait_for(
        lambda: MonitorEvent.objects.filter(mobile=other, status="otp_blocked").count() == 2,
        message=celery_worker.logs,
    )
