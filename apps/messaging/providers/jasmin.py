"""Jasmin's HTTP API: POST {url}/send, form-encoded, answered ``Success "<message id>"``.

Jasmin queues the message towards an SMPP connector and answers at once; errors come
back as ``Error "..."`` with a status that says whose fault it is (400: this request,
403: the account, 412: no route, 5xx: Jasmin). Jasmin takes no id of ours, so a message
whose outcome was lost cannot be looked up: ``lookup`` answers UNKNOWN (at least once).
"""

import re
import string

import requests
from django.conf import settings

from apps.core.logging import mask_mobiles

from ..receipt_urls import jasmin_dlr_url
from .base import GatewayError, Lookup, MessageRejected, OutboundMessage, SendingGateway, Sent

SUCCESS = re.compile(r'^Success "(?P<id>[^"]+)"')
ERROR = re.compile(r'^Error "(?P<detail>.*)"', re.DOTALL)
# Jasmin turns coding-0 content into GSM 03.38 and replaces what it cannot encode; ASCII
# but for these few maps onto GSM 03.38 (some through its escape table). Anything else is
# sent as UCS-2 (coding 8), which Jasmin takes as hex of the UTF-16BE bytes.
GSM_SAFE = frozenset(string.printable) - {"`", "\t", "\x0b", "\x0c"}
CODING_GSM = "0"
CODING_UCS2 = "8"
DLR_ALL_LEVELS = "3"  # SMS-C acceptance and handset delivery


class JasminProvider:
    def send(self, gateway: SendingGateway, message: OutboundMessage) -> Sent:
        try:
            answer = requests.post(
                f"{gateway.url}/send",
                data=_fields(gateway, message),
                timeout=settings.NOTIFICATION_SEND_TIMEOUT,
            )
        except requests.RequestException as exc:
            raise GatewayError(f"jasmin unreachable: {type(exc).__name__}") from exc
        found = SUCCESS.match(answer.text) if answer.status_code == 200 else None
        if found is None:
            raise _mapped(answer)
        return Sent(provider_id=found["id"])

    def lookup(self, gateway: SendingGateway, message: OutboundMessage) -> tuple[Lookup, str]:
        return Lookup.UNKNOWN, ""


def _fields(gateway: SendingGateway, message: OutboundMessage) -> dict[str, str]:
    fields = {
        "username": gateway.username,
        "password": gateway.password,
        "to": message.to.removeprefix("+"),  # Jasmin's SMPP side takes the digits
        **_content(message.body),
    }
    if gateway.sender:
        fields["from"] = gateway.sender
    dlr_url = jasmin_dlr_url(gateway.id, message.id)
    if dlr_url:
        fields.update({"dlr": "yes", "dlr-url": dlr_url, "dlr-level": DLR_ALL_LEVELS, "dlr-method": "POST"})
    return fields


def _content(body: str) -> dict[str, str]:
    if set(body) <= GSM_SAFE:
        return {"coding": CODING_GSM, "content": body}
    return {"coding": CODING_UCS2, "hex-content": body.encode("utf-16-be").hex()}


def _mapped(answer: requests.Response) -> Exception:
    found = ERROR.match(answer.text)
    detail = mask_mobiles(found["detail"] if found else answer.text[:200])
    text = f"jasmin answered {answer.status_code}: {detail}"
    # A 400 is about this request, except when it names the account's own credentials,
    # which every message would carry the same.
    credentials = "username" in detail or "password" in detail
    if answer.status_code == 400 and not credentials:
        return MessageRejected(text)
    return GatewayError(text)
