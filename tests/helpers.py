"""Small builders shared by tests: gateway deliveries in each gateway's real format."""

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from rest_framework.test import APIClient
from twilio.request_validator import RequestValidator

from apps.inbound.models import Gateway


@dataclass
class GatewayCreds:
    """A gateway as tests drive it: the model keeps no plain secret, so it is kept here."""

    model: Gateway
    secret: str

    @property
    def id(self) -> uuid.UUID:
        return self.model.id

    @property
    def kind(self) -> str:
        return self.model.kind

    @property
    def name(self) -> str:
        return self.model.name


def client_and_gateway(name: str = "test") -> tuple[Any, str]:
    """A client (as ClientCreds) and a native gateway's token, committed for other processes."""
    from apps.clients.services import client_create
    from apps.inbound.services import gateway_create
    from tests.conftest import ClientCreds

    client, key = client_create(name=name)
    _, token = gateway_create(kind="native", name=name)
    return ClientCreds(str(client.id), key, client.webhook_secret), token


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def send_native(api: APIClient, token: str, sender: str, body: str, **fields: Any) -> Any:
    payload = {"sender_number": sender, "sms_message": body, "received_timestamp": now_iso(), **fields}
    return api.post("/sms/receive", payload, format="json", HTTP_AUTHORIZATION=f"Bearer {token}")


def android_payload(sender: str, body: str, event_id: str = "evt-1") -> bytes:
    envelope = {
        "deviceId": "ffffffffceb0b1db0000018e937c815b",
        "event": "sms:received",
        "id": event_id,
        "payload": {
            "messageId": "abc123",
            "message": body,
            "phoneNumber": sender,
            "simNumber": 1,
            "receivedAt": datetime.now(UTC).isoformat(),
        },
        "webhookId": "LreFUt-Z3sSq0JufY9uWB",
    }
    return json.dumps(envelope).encode()


def android_headers(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    signature = hmac.new(secret.encode(), body + ts.encode(), hashlib.sha256).hexdigest()
    return {"HTTP_X_SIGNATURE": signature, "HTTP_X_TIMESTAMP": ts}


def send_android(
    api: APIClient, gateway: GatewayCreds, sender: str, body: str, event_id: str = "evt-1"
) -> Any:
    raw = android_payload(sender, body, event_id)
    headers: dict[str, Any] = android_headers(gateway.secret, raw)
    return api.post(f"/sms/receive/android/{gateway.id}", raw, content_type="application/json", **headers)


def twilio_params(sender: str, body: str, sid: str = "SM0123456789abcdef0123456789abcdef") -> dict[str, str]:
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC0123456789abcdef0123456789abcdef",
        "From": sender,
        "To": "+919000000000",
        "Body": body,
        "NumMedia": "0",
    }


def send_twilio(api: APIClient, gateway: GatewayCreds, sender: str, body: str, sid: str | None = None) -> Any:
    params = twilio_params(sender, body, sid) if sid else twilio_params(sender, body)
    url = f"http://testserver/sms/receive/twilio/{gateway.id}"
    signature = RequestValidator(gateway.secret).compute_signature(url, params)
    return api.post(
        f"/sms/receive/twilio/{gateway.id}",
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )


def jasmin_params(
    sender: str, body: str, message_id: str = "a5a1e6f7-4d8c-4b2e-9b1f-2a2d5d1c0e11"
) -> dict[str, str]:
    return {
        "id": message_id,
        "from": sender,
        "to": "9000000000",
        "origin-connector": "smpp-01",
        "priority": "0",
        "coding": "0",
        "validity": "0",
        "content": body,
        "binary": body.encode().hex(),
    }


def send_jasmin(
    api: APIClient, gateway: GatewayCreds, sender: str, body: str, message_id: str | None = None
) -> Any:
    params = jasmin_params(sender, body, message_id) if message_id else jasmin_params(sender, body)
    return api.post(
        f"/sms/receive/jasmin/{gateway.id}?token={gateway.secret}",
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
    )
