"""Delivery receipts: each provider's report, in its real format and signature, moves the
live notification forward, and nothing else does (a bad signature, another gateway, an
unknown or stale message id, a malformed body)."""

import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from rest_framework.test import APIClient
from twilio.request_validator import RequestValidator

from apps.core import keys
from apps.core.redis import get_redis
from apps.messaging.providers.android import AndroidProvider
from apps.messaging.providers.base import OutboundMessage, Provider
from apps.messaging.providers.jasmin import JasminProvider
from apps.messaging.providers.twilio import TwilioProvider
from apps.messaging.receipt_urls import jasmin_dlr_url
from apps.messaging.services.enqueue import notification_enqueue
from apps.messaging.services.routing import sending_gateway
from apps.messaging.services.status import notification_change
from tests.helpers import GatewayCreds, android_headers

from .providers import JasminServer, TwilioServer

pytestmark = pytest.mark.django_db

TO = "+919876543210"
BODY = "Your code is 123456"
PUBLIC = "https://bridge.example"


@pytest.fixture(autouse=True)
def public_address(settings: Any) -> None:
    settings.PUBLIC_BASE_URL = PUBLIC  # so the adapters ask for receipts, as in service


@pytest.fixture
def notification(make_client: Any) -> str:
    return notification_enqueue(client_id=make_client().id, channel="sms", to=TO, body=BODY).id


def live(notification_id: str) -> Any:
    return get_redis().hgetall(keys.notification(notification_id))


def metric(field: str) -> Any:
    return get_redis().hget(keys.metrics_notifications(), field)


def sending_through(gateway: GatewayCreds, notification_id: str) -> None:
    notification_change(notification_id=notification_id, status="sending", gateway_id=str(gateway.id))


def sent_through(gateway: GatewayCreds, provider: Provider, notification_id: str) -> str:
    """What the sender does: claim, send through the adapter, record the provider's id."""
    sending_through(gateway, notification_id)
    message = OutboundMessage(id=notification_id, channel="sms", to=TO, body=BODY)
    sent = provider.send(sending_gateway(gateway.model), message)
    notification_change(
        notification_id=notification_id,
        status="sent",
        gateway_id=str(gateway.id),
        provider_id=sent.provider_id,
    )
    return sent.provider_id


# --- SMS Gateway for Android -------------------------------------------------------------
AT_FIELD = {"sms:sent": "sentAt", "sms:delivered": "deliveredAt", "sms:failed": "failedAt"}


def android_body(event: str, message_id: str, **payload: Any) -> bytes:
    at = {AT_FIELD[event]: "2026-06-22T15:46:11.000+07:00"} if event in AT_FIELD else {}
    envelope = {
        "deviceId": "ffffffffceb0b1db0000018e937c815b",
        "event": event,
        "id": f"evt-{uuid.uuid4().hex[:8]}",
        "payload": {"messageId": message_id, "phoneNumber": TO, "simNumber": None, **at, **payload},
        "webhookId": "LreFUt-Z3sSq0JufY9uWB",
    }
    return json.dumps(envelope).encode()


def android_report(
    api: APIClient,
    gateway: GatewayCreds,
    body: bytes,
    secret: str | None = None,
    timestamp: int | None = None,
    content_type: str = "application/json",
) -> Any:
    """A webhook as the phone posts it, signed with ``secret`` (the gateway's own by default)."""
    headers: dict[str, Any] = android_headers(secret or gateway.secret, body, timestamp)
    return api.post(
        f"/notifications/receipts/android/{gateway.id}", body, content_type=content_type, **headers
    )


def test_android_delivered_report_marks_the_notification_delivered(
    api: APIClient, android_gateway: GatewayCreds, notification: str
) -> None:
    message_id = sent_through(android_gateway, AndroidProvider(), notification)

    sent = android_report(api, android_gateway, android_body("sms:sent", message_id))
    delivered = android_report(api, android_gateway, android_body("sms:delivered", message_id))

    assert (sent.status_code, sent.json()) == (200, {"status": "ok"})
    assert (delivered.status_code, delivered.json()) == (200, {"status": "ok"})
    assert live(notification)["status"] == "delivered"
    assert metric(f"{android_gateway.id}:delivered") == "1"


def test_android_failed_report_fails_the_notification_with_its_reason(
    api: APIClient, android_gateway: GatewayCreds, notification: str
) -> None:
    message_id = sent_through(android_gateway, AndroidProvider(), notification)

    answer = android_report(
        api, android_gateway, android_body("sms:failed", message_id, reason="RESULT_ERROR_GENERIC_FAILURE")
    )

    assert answer.status_code == 200
    state = live(notification)
    assert (state["status"], state["last_error"]) == ("failed", "RESULT_ERROR_GENERIC_FAILURE")
    assert metric(f"{android_gateway.id}:undelivered") == "1"


def test_android_report_never_moves_a_delivered_notification_back(
    api: APIClient, android_gateway: GatewayCreds, notification: str
) -> None:
    message_id = sent_through(android_gateway, AndroidProvider(), notification)
    android_report(api, android_gateway, android_body("sms:delivered", message_id))

    late = android_report(api, android_gateway, android_body("sms:sent", message_id))
    failed = android_report(api, android_gateway, android_body("sms:failed", message_id, reason="late"))

    assert (late.status_code, failed.status_code) == (200, 200)
    assert live(notification)["status"] == "delivered"
    assert live(notification)["last_error"] == ""


def test_android_report_before_the_send_is_recorded_is_asked_again(
    api: APIClient, android_gateway: GatewayCreds, notification: str
) -> None:
    sending_through(android_gateway, notification)

    early = android_report(api, android_gateway, android_body("sms:delivered", notification))

    assert early.status_code == 503
    assert early.json()["code"] == "receipt_early" and early["Retry-After"]
    assert live(notification)["status"] == "sending"
    notification_change(
        notification_id=notification,
        status="sent",
        gateway_id=str(android_gateway.id),
        provider_id=notification,
    )
    again = android_report(api, android_gateway, android_body("sms:delivered", notification))
    assert again.status_code == 200 and live(notification)["status"] == "delivered"


def test_android_report_of_an_unknown_message_or_another_event_is_acknowledged(
    api: APIClient, android_gateway: GatewayCreds, notification: str
) -> None:
    sent_through(android_gateway, AndroidProvider(), notification)
    ping = json.dumps(
        {"deviceId": "d", "event": "system:ping", "id": "e1", "payload": {"health": {}}}
    ).encode()

    unknown = android_report(api, android_gateway, android_body("sms:delivered", str(uuid.uuid4())))
    other = android_report(api, android_gateway, ping)

    assert (unknown.status_code, unknown.json()) == (200, {"status": "ignored"})
    assert (other.status_code, other.json()) == (200, {"status": "ignored"})
    assert live(notification)["status"] == "sent"


def test_android_report_with_a_bad_signature_is_refused(
    api: APIClient, android_gateway: GatewayCreds, notification: str
) -> None:
    message_id = sent_through(android_gateway, AndroidProvider(), notification)
    body = android_body("sms:delivered", message_id)

    wrong = android_report(api, android_gateway, body, secret="not-the-signing-key-at-all")
    stale = android_report(api, android_gateway, body, timestamp=int(time.time()) - 3600)
    unsigned = api.post(
        f"/notifications/receipts/android/{android_gateway.id}", body, content_type="application/json"
    )

    assert [r.status_code for r in (wrong, stale, unsigned)] == [401, 401, 401]
    assert set(wrong.json()) == {"detail", "code"}
    assert live(notification)["status"] == "sent"


def test_another_android_gateway_cannot_touch_the_notification(
    api: APIClient, android_gateway: GatewayCreds, make_gateway: Any, notification: str
) -> None:
    message_id = sent_through(android_gateway, AndroidProvider(), notification)
    other = make_gateway("android")

    own_report = android_report(api, other, android_body("sms:failed", message_id, reason="x"))
    borrowed = android_report(
        api, other, android_body("sms:failed", message_id), secret=android_gateway.secret
    )

    assert (own_report.status_code, own_report.json()) == (200, {"status": "ignored"})
    assert borrowed.status_code == 401
    assert live(notification)["status"] == "sent"


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b'{"event": "sms:delivered", "id": "e1"}', "application/json", 400),
        (
            b'{"event": "sms:delivered", "id": "e1", "payload": {"phoneNumber": "+1"}}',
            "application/json",
            400,
        ),
        (b'{"event": "sms:delivered", "id": "e1", "payload": ["x"]}', "application/json", 400),
        (b"<xml/>", "text/xml", 415),
    ],
)
def test_android_malformed_report_is_a_client_error(
    api: APIClient,
    android_gateway: GatewayCreds,
    notification: str,
    body: bytes,
    content_type: str,
    status: int,
) -> None:
    sent_through(android_gateway, AndroidProvider(), notification)

    answer = android_report(api, android_gateway, body, content_type=content_type)

    assert answer.status_code == status
    assert set(answer.json()) >= {"detail", "code"}
    assert live(notification)["status"] == "sent"


def test_android_report_for_an_unknown_gateway_is_not_found(
    api: APIClient, android_gateway: GatewayCreds, notification: str
) -> None:
    body = android_body("sms:delivered", notification)

    answer = api.post(
        f"/notifications/receipts/android/{uuid.uuid4()}", body, content_type="application/json"
    )

    assert answer.status_code == 404


# --- Twilio --------------------------------------------------------------------------------
def twilio_report(
    api: APIClient,
    twilio_server: TwilioServer,
    sid: str,
    status: str,
    secret: str | None = None,
    **extra: str,
) -> Any:
    """A status callback to the StatusCallback URL the send asked for, signed as Twilio does."""
    callback = twilio_server.requests[-1].form()["StatusCallback"]
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": twilio_server.account_sid,
        "From": "+15005550006",
        "To": TO,
        "MessageStatus": status,
        "SmsStatus": status,
        "ApiVersion": "2010-04-01",
        **extra,
    }
    signature = RequestValidator(secret or twilio_server.auth_token).compute_signature(callback, params)
    return api.post(
        urlsplit(callback).path,
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )


def test_twilio_status_callbacks_move_the_notification_on(
    api: APIClient, twilio_gateway: GatewayCreds, twilio_server: TwilioServer, notification: str
) -> None:
    sid = sent_through(twilio_gateway, TwilioProvider(), notification)

    answers = [twilio_report(api, twilio_server, sid, status) for status in ("queued", "sent", "delivered")]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0]["Content-Type"].startswith("text/xml") and b"<Response/>" in answers[0].content
    assert live(notification)["status"] == "delivered"
    assert metric(f"{twilio_gateway.id}:delivered") == "1"


def test_twilio_undelivered_callback_fails_the_notification_with_its_error_code(
    api: APIClient, twilio_gateway: GatewayCreds, twilio_server: TwilioServer, notification: str
) -> None:
    sid = sent_through(twilio_gateway, TwilioProvider(), notification)

    answer = twilio_report(api, twilio_server, sid, "undelivered", ErrorCode="30003")

    assert answer.status_code == 200
    state = live(notification)
    assert (state["status"], state["last_error"]) == ("failed", "twilio error 30003")
    assert metric(f"{twilio_gateway.id}:undelivered") == "1"


def test_twilio_callback_never_moves_a_delivered_notification_back(
    api: APIClient, twilio_gateway: GatewayCreds, twilio_server: TwilioServer, notification: str
) -> None:
    sid = sent_through(twilio_gateway, TwilioProvider(), notification)
    twilio_report(api, twilio_server, sid, "delivered")

    twilio_report(api, twilio_server, sid, "sent")

    assert live(notification)["status"] == "delivered"


def test_twilio_callback_for_an_unknown_sid_is_acknowledged(
    api: APIClient, twilio_gateway: GatewayCreds, twilio_server: TwilioServer, notification: str
) -> None:
    sent_through(twilio_gateway, TwilioProvider(), notification)

    answer = twilio_report(api, twilio_server, "SM" + uuid.uuid4().hex, "failed", ErrorCode="30005")

    assert answer.status_code == 200
    assert live(notification)["status"] == "sent"


def test_twilio_callback_with_a_bad_signature_is_refused(
    api: APIClient, twilio_gateway: GatewayCreds, twilio_server: TwilioServer, notification: str
) -> None:
    sid = sent_through(twilio_gateway, TwilioProvider(), notification)

    answer = twilio_report(api, twilio_server, sid, "failed", secret="another-auth-token-0123")

    assert answer.status_code == 401
    assert answer.json()["code"] == "invalid_signature"
    assert live(notification)["status"] == "sent"


def test_twilio_malformed_callback_is_a_client_error(
    api: APIClient, twilio_gateway: GatewayCreds, twilio_server: TwilioServer, notification: str
) -> None:
    sent_through(twilio_gateway, TwilioProvider(), notification)
    callback = twilio_server.requests[-1].form()["StatusCallback"]
    params = {"MessageStatus": "delivered"}
    signature = RequestValidator(twilio_server.auth_token).compute_signature(callback, params)

    missing = api.post(
        urlsplit(callback).path,
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )
    as_json = api.post(
        urlsplit(callback).path,
        {"MessageSid": "SM1", "MessageStatus": "failed"},
        format="json",
        HTTP_X_TWILIO_SIGNATURE=RequestValidator(twilio_server.auth_token).compute_signature(callback, {}),
    )

    assert (missing.status_code, as_json.status_code) == (400, 415)
    assert live(notification)["status"] == "sent"


# --- Jasmin --------------------------------------------------------------------------------
def jasmin_dlr(api: APIClient, dlr_url: str, **fields: str) -> Any:
    """A DLR as Jasmin's DLRThrower posts it (dlr-method POST) to the dlr-url of the send."""
    parts = urlsplit(dlr_url)
    return api.post(
        f"{parts.path}?{parts.query}", urlencode(fields), content_type="application/x-www-form-urlencoded"
    )


def level1(message_id: str, status: str = "ESME_ROK") -> dict[str, str]:
    return {"id": message_id, "message_status": status, "level": "1", "connector": "smpp-01"}


def level3(message_id: str, status: str, err: str = "000") -> dict[str, str]:
    return {
        "id": message_id,
        "id_smsc": "2567",
        "message_status": status,
        "level": "3",
        "connector": "smpp-01",
        "subdate": "2606221546",
        "donedate": "2606221547",
        "sub": "001",
        "dlvrd": "001" if status == "DELIVRD" else "000",
        "err": err,
        "text": BODY[:20],
    }


def sent_to_jasmin(gateway: GatewayCreds, server: JasminServer, notification_id: str) -> tuple[str, str]:
    message_id = sent_through(gateway, JasminProvider(), notification_id)
    return message_id, server.requests[-1].form()["dlr-url"]


def test_jasmin_dlrs_move_the_notification_on_and_are_acknowledged(
    api: APIClient, jasmin_gateway: GatewayCreds, jasmin_server: JasminServer, notification: str
) -> None:
    message_id, dlr_url = sent_to_jasmin(jasmin_gateway, jasmin_server, notification)

    accepted = jasmin_dlr(api, dlr_url, **level1(message_id))
    delivered = jasmin_dlr(api, dlr_url, **level3(message_id, "DELIVRD"))

    for answer in (accepted, delivered):
        assert (answer.status_code, answer.content, answer["Content-Type"]) == (
            200,
            b"ACK/Jasmin",
            "text/plain",
        )
    assert live(notification)["status"] == "delivered"
    assert metric(f"{jasmin_gateway.id}:delivered") == "1"


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        (lambda m: level1(m, "ESME_RINVDSTADR"), "jasmin ESME_RINVDSTADR"),
        (lambda m: level3(m, "UNDELIV", err="001"), "jasmin UNDELIV (err 001)"),
        (lambda m: level3(m, "EXPIRED"), "jasmin EXPIRED (err 000)"),
    ],
)
def test_jasmin_failure_dlrs_fail_the_notification(
    api: APIClient,
    jasmin_gateway: GatewayCreds,
    jasmin_server: JasminServer,
    notification: str,
    fields: Any,
    error: str,
) -> None:
    message_id, dlr_url = sent_to_jasmin(jasmin_gateway, jasmin_server, notification)

    answer = jasmin_dlr(api, dlr_url, **fields(message_id))

    assert answer.content == b"ACK/Jasmin"
    state = live(notification)
    assert (state["status"], state["last_error"]) == ("failed", error)
    assert metric(f"{jasmin_gateway.id}:undelivered") == "1"


def test_jasmin_dlr_never_moves_a_delivered_notification_back(
    api: APIClient, jasmin_gateway: GatewayCreds, jasmin_server: JasminServer, notification: str
) -> None:
    message_id, dlr_url = sent_to_jasmin(jasmin_gateway, jasmin_server, notification)
    jasmin_dlr(api, dlr_url, **level3(message_id, "DELIVRD"))

    late = jasmin_dlr(api, dlr_url, **level1(message_id))
    enroute = jasmin_dlr(api, dlr_url, **level3(message_id, "ENROUTE"))

    assert (late.content, enroute.content) == (b"ACK/Jasmin", b"ACK/Jasmin")
    assert live(notification)["status"] == "delivered"


def test_jasmin_dlr_with_another_message_id_changes_nothing(
    api: APIClient, jasmin_gateway: GatewayCreds, jasmin_server: JasminServer, notification: str
) -> None:
    _, dlr_url = sent_to_jasmin(jasmin_gateway, jasmin_server, notification)

    answer = jasmin_dlr(api, dlr_url, **level3(str(uuid.uuid4()), "UNDELIV"))

    assert answer.content == b"ACK/Jasmin"  # acknowledged, so Jasmin stops sending it
    assert live(notification)["status"] == "sent"


def test_jasmin_dlr_for_an_unknown_notification_is_acknowledged(
    api: APIClient, jasmin_gateway: GatewayCreds
) -> None:
    dlr_url = jasmin_dlr_url(str(jasmin_gateway.id), str(uuid.uuid4()))

    answer = jasmin_dlr(api, dlr_url, **level3(str(uuid.uuid4()), "DELIVRD"))

    assert (answer.status_code, answer.content) == (200, b"ACK/Jasmin")


def test_jasmin_dlr_before_the_send_is_recorded_is_asked_again(
    api: APIClient, jasmin_gateway: GatewayCreds, notification: str
) -> None:
    sending_through(jasmin_gateway, notification)
    dlr_url = jasmin_dlr_url(str(jasmin_gateway.id), notification)

    answer = jasmin_dlr(api, dlr_url, **level1(str(uuid.uuid4()), "ESME_RINVDSTADR"))

    assert answer.status_code == 503
    assert answer.content != b"ACK/Jasmin"  # so Jasmin's DLRThrower sends it again
    assert live(notification)["status"] == "sending"


def test_jasmin_dlr_without_the_urls_signature_is_refused(
    api: APIClient,
    jasmin_gateway: GatewayCreds,
    jasmin_server: JasminServer,
    notification: str,
    make_client: Any,
) -> None:
    message_id, dlr_url = sent_to_jasmin(jasmin_gateway, jasmin_server, notification)
    other = notification_enqueue(client_id=make_client(name="Other").id, channel="sms", to=TO, body=BODY).id
    path = urlsplit(dlr_url).path

    unsigned = api.post(
        f"{path}?n={notification}",
        urlencode(level1(message_id, "ESME_RSYSERR")),
        content_type="application/x-www-form-urlencoded",
    )
    forged = jasmin_dlr(api, dlr_url.replace(notification, other), **level1(message_id, "ESME_RSYSERR"))

    assert (unsigned.status_code, forged.status_code) == (403, 403)
    assert unsigned.json()["code"] == "invalid_signature"
    assert (live(notification)["status"], live(other)["status"]) == ("sent", "queued")


def test_another_jasmin_gateway_cannot_use_the_dlr_url(
    api: APIClient,
    jasmin_gateway: GatewayCreds,
    jasmin_server: JasminServer,
    notification: str,
    make_gateway: Any,
) -> None:
    message_id, dlr_url = sent_to_jasmin(jasmin_gateway, jasmin_server, notification)
    other = make_gateway("jasmin")

    answer = jasmin_dlr(
        api, dlr_url.replace(str(jasmin_gateway.id), str(other.id)), **level1(message_id, "ESME_RSYSERR")
    )

    assert answer.status_code == 403
    assert live(notification)["status"] == "sent"


@pytest.mark.parametrize(
    "fields",
    [
        {"message_status": "DELIVRD", "level": "3"},
        {"id": "x", "message_status": "DELIVRD"},
        {"id": "x", "message_status": "DELIVRD", "level": "9"},
    ],
)
def test_jasmin_malformed_dlr_is_a_client_error(
    api: APIClient, jasmin_gateway: GatewayCreds, jasmin_server: JasminServer, notification: str, fields: dict
) -> None:
    _, dlr_url = sent_to_jasmin(jasmin_gateway, jasmin_server, notification)

    answer = jasmin_dlr(api, dlr_url, **fields)

    assert answer.status_code == 400
    assert set(answer.json()) >= {"detail", "code"}
    assert live(notification)["status"] == "sent"


def test_jasmin_dlr_for_an_unknown_gateway_is_not_found(
    api: APIClient, jasmin_gateway: GatewayCreds, notification: str
) -> None:
    gateway_id = str(uuid.uuid4())
    dlr_url = jasmin_dlr_url(gateway_id, notification)

    answer = jasmin_dlr(api, dlr_url, **level3("x", "DELIVRD"))

    assert answer.status_code == 404
