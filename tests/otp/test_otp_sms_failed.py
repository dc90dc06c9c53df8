"""A one-time code whose SMS failed was received by nobody: it ends with its SMS, so the
client may ask for another at once instead of a 409 until the dead code expires."""

from typing import Any

import pytest

from apps.core import keys
from apps.core.redis import get_redis as _get_redis
from apps.messaging.services.sender import notifications_send_pending
from apps.messaging.services.status import notification_change
from apps.otp.payloads import OtpRecord
from tests.messaging.conftest import twilio_gateway, twilio_server  # noqa: F401 (fixtures)

from .conftest import NUMBER, code_of, otp_status, request_otp, verify_otp

pytestmark = pytest.mark.django_db


def get_redis() -> Any:
    """The data Redis, untyped: redis-py's stubs type every reply as a union."""
    return _get_redis()


def test_a_code_whose_sms_is_rejected_ends_and_another_can_be_asked_for(
    api: Any,
    client_creds: Any,
    twilio_gateway: Any,  # noqa: F811
    twilio_server: Any,  # noqa: F811
) -> None:
    twilio_server.fail_with(21211, 400)  # "invalid 'To' number": a rejection, failed at once
    first = request_otp(api, client_creds)
    assert first.status_code == 202
    dead_code = code_of(first)

    notifications_send_pending()

    notification = api.get(f"/notifications/{first.json()['notification_id']}", **client_creds.auth).json()
    assert notification["status"] == "failed"
    assert otp_status(api, client_creds).json()["active"] is False
    assert verify_otp(api, client_creds, dead_code).status_code == 410  # nobody could have it
    again = request_otp(api, client_creds)
    assert again.status_code == 202, again.content


def test_the_old_sms_failing_late_leaves_a_newer_code_alone(
    api: Any, client_creds: Any, make_gateway: Any
) -> None:
    make_gateway("console")
    first = request_otp(api, client_creds)
    key = keys.otp(client_creds.id, NUMBER)
    # The first code is gone (verified, say) and a newer one is alive for the number.
    record = OtpRecord.from_json(get_redis().get(key))
    newer = OtpRecord(
        record.otp_hash, record.mobile_number, record.created_at, record.expires_at, "another-sms"
    )
    get_redis().set(key, newer.to_json(), ex=300)

    notification_change(notification_id=first.json()["notification_id"], status="failed", last_error="late")

    assert get_redis().get(key) == newer.to_json()


def test_a_failed_notification_that_carried_no_code_touches_no_code(
    api: Any, client_creds: Any, make_gateway: Any
) -> None:
    make_gateway("console")
    assert request_otp(api, client_creds).status_code == 202
    plain = api.post(
        "/notifications",
        {"channel": "sms", "to": "+91" + NUMBER, "body": "hello"},
        format="json",
        **client_creds.auth,
    ).json()

    notification_change(notification_id=plain["id"], status="failed", last_error="rejected")

    assert otp_status(api, client_creds).json()["active"] is True
