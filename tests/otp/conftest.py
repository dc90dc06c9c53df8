"""Fixtures of the OTP tests: a client, a console gateway that sends its SMS, and helpers
that read the code back from the queued notification (what a provider would receive)."""

from typing import Any

import pytest

from apps.core import keys
from apps.core.redis import get_redis
from apps.messaging.payloads import NotificationRecord

NUMBER = "9876543210"


@pytest.fixture
def console(make_gateway: Any) -> Any:
    return make_gateway("console")


def request_otp(api: Any, creds: Any, mobile: str = NUMBER, **fields: Any) -> Any:
    return api.post("/otp/request", {"mobile_number": mobile, **fields}, format="json", **creds.auth)


def verify_otp(api: Any, creds: Any, otp: str, mobile: str = NUMBER, **fields: Any) -> Any:
    return api.post(
        "/otp/verify", {"mobile_number": mobile, "otp": otp, **fields}, format="json", **creds.auth
    )


def otp_status(api: Any, creds: Any, mobile: str = NUMBER) -> Any:
    return api.get(f"/otp/status/{mobile}", **creds.auth)


def queued_sms(notification_id: str) -> NotificationRecord:
    for raw in get_redis().lrange(keys.notification_queue(), 0, -1):
        record = NotificationRecord.from_json(raw)
        if record.id == notification_id:
            return record
    raise AssertionError(f"notification {notification_id} is not queued")


def code_of(answer: Any) -> str:
    """The code in the SMS queued for ``answer``'s notification."""
    body = queued_sms(answer.json()["notification_id"]).body
    return "".join(ch for ch in body.split("code is ", 1)[1].split(".", 1)[0] if ch.isdigit())
