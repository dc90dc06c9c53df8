"""The whole OTP flow with real processes: the HTTP API, Redis, a Celery worker sending the
SMS to a local SMS Gateway for Android API (the code is read from what it received), and
the drains that keep the monitor events and the redacted notification in PostgreSQL."""

import re
from collections.abc import Iterator
from typing import Any

import pytest

from apps.audit.models import MonitorEvent
from apps.inbound.send_config import SendConfig
from apps.messaging.models import Notification
from tests.messaging.providers import AndroidGatewayServer
from tests.polling import wait_for

from .conftest import request_otp, verify_otp

pytestmark = pytest.mark.slow  # the session's real worker and beat

# Numbers no other test uses: the session's worker drains whatever earlier tests left
# queued in Redis, and their monitor events for a shared number would land here too.
NUMBER = "9876512340"
OTHER = "9876512341"


@pytest.fixture
def phone() -> Iterator[AndroidGatewayServer]:
    server = AndroidGatewayServer()
    yield server
    server.stop()


def received_code(phone: AndroidGatewayServer, notification_id: str, logs: Any) -> str:
    """The code in the SMS the gateway API was asked to send for ``notification_id``."""

    def sent() -> Any:
        posts = [r.json() for r in phone.requests if r.method == "POST" and r.path == "/messages"]
        return next((p for p in posts if p.get("id") == notification_id), None)

    message = wait_for(sent, message=logs)
    assert message["phoneNumbers"][0].startswith("+91")
    found = re.search(r"\b(\d{6})\b", message["textMessage"]["text"])
    assert found, message
    return found.group(1)


def test_codes_go_out_through_the_worker_are_verified_once_and_wrong_ones_block(
    api: Any, celery_worker: Any, client_creds: Any, make_gateway: Any, phone: AndroidGatewayServer
) -> None:
    make_gateway("android", send=SendConfig(url=phone.url, username=phone.login, password=phone.password))
    answer = request_otp(api, client_creds, mobile=NUMBER)
    assert answer.status_code == 202, answer.content
    notification_id = answer.json()["notification_id"]

    code = received_code(phone, notification_id, celery_worker.logs)

    assert verify_otp(api, client_creds, code, mobile=NUMBER).json() == {
        "mobile_number": NUMBER,
        "verified": True,
    }
    assert verify_otp(api, client_creds, code, mobile=NUMBER).status_code == 410
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
    other = OTHER
    answer = request_otp(api, client_creds, mobile=other)
    code = received_code(phone, answer.json()["notification_id"], celery_worker.logs)
    wrong = "000000" if code != "000000" else "111111"
    left = [verify_otp(api, client_creds, wrong, mobile=other).json().get("attempts_left") for _ in range(5)]
    assert left == [4, 3, 2, 1, 0]
    blocked = verify_otp(api, client_creds, code, mobile=other)
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) > 3500
    wait_for(
        lambda: MonitorEvent.objects.filter(mobile=other, status="otp_blocked").count() == 2,
        message=celery_worker.logs,
    )
