"""SMS Gateway for Android (local server on the phone, or its cloud/private server).

Sent through the project's official client, ``android-sms-gateway``: POST
{url}/messages with basic auth. The message carries the notification id as its own id,
so the gateway itself de-duplicates: a repeat of the same id is answered 409, and
``lookup`` can ask the gateway whether a message whose outcome was lost reached it.
Delivery reports come back as the phone's sms:sent/delivered/failed webhooks.
"""

from typing import Any

import requests
from android_sms_gateway import APIClient, Message, TextMessage, errors  # type: ignore[import-untyped]
from android_sms_gateway.http import RequestsHttpClient  # type: ignore[import-untyped]
from django.conf import settings

from apps.core.logging import mask_mobiles

from .base import GatewayError, Lookup, MessageRejected, OutboundMessage, SendingGateway, Sent

CONFLICT = 409  # "Message with the same ID already exists": it reached the gateway before


class TimeoutSession(requests.Session):
    """A session whose requests time out by default.

    The client calls ``session.post(url, ...)`` without a timeout, and requests waits for
    ever by default: a phone that drops off Wi-Fi mid-answer would hold a sender thread.
    """

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return super().request(*args, **kwargs)


def _client(gateway: SendingGateway, session: requests.Session) -> APIClient:
    http = RequestsHttpClient(session)
    return APIClient(gateway.username, gateway.password, base_url=gateway.url, http=http)


class AndroidProvider:
    def send(self, gateway: SendingGateway, message: OutboundMessage) -> Sent:
        sms = Message(
            phone_numbers=[message.to],
            text_message=TextMessage(text=message.body),
            id=message.id,
            with_delivery_report=True,
        )
        with TimeoutSession(settings.NOTIFICATION_SEND_TIMEOUT) as session:
            try:
                _client(gateway, session).send(sms)
            except errors.APIError as exc:
                if exc.status_code != CONFLICT:
                    raise _mapped(exc) from exc
            except requests.RequestException as exc:
                raise GatewayError(f"android gateway unreachable: {type(exc).__name__}") from exc
            except (ValueError, KeyError) as exc:
                # No login set up, or an answer that is not the API's message state.
                raise GatewayError(f"android gateway call failed: {type(exc).__name__}: {exc}") from exc
        return Sent(provider_id=message.id)

    def lookup(self, gateway: SendingGateway, message: OutboundMessage) -> tuple[Lookup, str]:
        with TimeoutSession(settings.NOTIFICATION_SEND_TIMEOUT) as session:
            try:
                state = _client(gateway, session).get_state(message.id)
            except errors.NotFoundError:
                return Lookup.NOT_SENT, ""
            except (errors.APIError, requests.RequestException, ValueError, KeyError):
                return Lookup.UNKNOWN, ""
        return Lookup.SENT, state.id


def _mapped(exc: errors.APIError) -> Exception:
    """400 is the gateway refusing this message (an invalid number); anything else
    (401/403 wrong login, 5xx, 429) is the gateway's own failure."""
    detail = mask_mobiles(_message(exc))
    if isinstance(exc, errors.BadRequestError):
        return MessageRejected(f"android gateway refused the message: {detail}")
    return GatewayError(f"android gateway answered {exc.status_code}: {detail}")


def _message(exc: errors.APIError) -> str:
    body = exc.response if isinstance(exc.response, dict) else {}
    return str(body.get("message") or body.get("error") or exc)
