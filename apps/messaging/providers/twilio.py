"""Twilio Programmable Messaging: POST /2010-04-01/Accounts/{sid}/Messages.json.

The gateway's send username is the Account SID and its password the auth token.
Twilio takes no id of ours, so a message whose outcome was lost with its worker cannot
be looked up: ``lookup`` answers UNKNOWN and the sender sends it again (at least once).
"""

import logging

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from apps.core.logging import mask_mobiles

from ..receipt_urls import twilio_status_callback_url
from .base import GatewayError, Lookup, MessageRejected, OutboundMessage, SendingGateway, Sent

# Error codes that say this message (its destination) will never be accepted: invalid
# 'To' number, unreachable region, unsubscribed recipient, To/From that cannot connect,
# and a destination country this account has no permission for.
REJECTED_CODES = frozenset({21211, 21614, 21610, 21612, 21408})
# 4xx answers about the account or the moment, not the message: wrong credentials, no such
# account (404), too many requests. And error codes of a gateway set up wrong, which every
# message would meet: no or an invalid From, a From that is not this account's number.
GATEWAY_STATUSES = frozenset({401, 403, 404, 429})
GATEWAY_CODES = frozenset({20003, 20404, 20429, 21212, 21603, 21606, 21659, 21660})

# The client logs each request's URL and headers at INFO, ten lines a message; its
# warnings are worth a worker's log, the rest is not.
wire_logger = logging.getLogger(f"{__name__}.wire")
wire_logger.setLevel(logging.WARNING)


class TwilioProvider:
    def send(self, gateway: SendingGateway, message: OutboundMessage) -> Sent:
        client = _client(gateway)
        callback = twilio_status_callback_url(gateway.id)
        fields = {"status_callback": callback} if callback else {}
        if gateway.sender:
            fields["from_"] = gateway.sender
        try:
            sent = client.messages.create(to=message.to, body=message.body, **fields)
        except (TwilioRestException, TwilioServiceException) as exc:
            raise _mapped(exc) from exc
        except requests.RequestException as exc:
            raise GatewayError(f"twilio unreachable: {type(exc).__name__}") from exc
        return Sent(provider_id=str(sent.sid))

    def lookup(self, gateway: SendingGateway, message: OutboundMessage) -> tuple[Lookup, str]:
        return Lookup.UNKNOWN, ""


def _client(gateway: SendingGateway) -> Client:
    http = TwilioHttpClient(timeout=settings.NOTIFICATION_SEND_TIMEOUT, logger=wire_logger)
    client = Client(gateway.username, gateway.password, http_client=http)
    if gateway.url:
        # Twilio's own address unless the gateway names another (a regional edge, a test server).
        client.api.base_url = gateway.url
    return client


def _mapped(exc: TwilioRestException | TwilioServiceException) -> Exception:
    status = int(exc.status or 0)
    code = int(exc.code or 0)
    detail = mask_mobiles(str(getattr(exc, "msg", "") or getattr(exc, "detail", "") or ""))
    text = f"twilio {status} (code {code}): {detail}"
    if code in REJECTED_CODES:
        return MessageRejected(text)
    if code in GATEWAY_CODES or status in GATEWAY_STATUSES or not 400 <= status < 500:
        return GatewayError(text)
    return MessageRejected(text)
