"""The console gateway: nothing leaves the machine; the message goes to the outbox table.

For development (``make run``): a developer reads the one-time code in the admin's
outbox. One outbox row per notification (a unique column, inserted with ON CONFLICT DO
NOTHING), so a message sent again after a lost worker is stored once.
"""

import logging

from apps.core.logging import mask_mobiles
from apps.inbound.models import Gateway

from ..models import OutboxMessage
from .base import Lookup, OutboundMessage, SendingGateway, Sent

logger = logging.getLogger(__name__)


class ConsoleProvider:
    def send(self, gateway: SendingGateway, message: OutboundMessage) -> Sent:
        # A worker keeps its gateway list a few seconds: the gateway may have been deleted
        # since, and the row must not fail on its foreign key (the message is still kept).
        exists = Gateway.objects.filter(pk=gateway.id).exists()
        row = OutboxMessage(
            notification_id=message.id,
            gateway_id=gateway.id if exists else None,
            channel=message.channel,
            to=message.to,
            subject=message.subject,
            body=message.body,
        )
        OutboxMessage.objects.bulk_create([row], ignore_conflicts=True)
        # Never the body: it may be a one-time code, and logs travel further than the outbox.
        logger.info(
            "console gateway %s: %s to %s kept in the outbox", gateway.name, message.channel, _masked(message)
        )
        return Sent(provider_id=provider_id(message.id))

    def lookup(self, gateway: SendingGateway, message: OutboundMessage) -> tuple[Lookup, str]:
        if OutboxMessage.objects.filter(notification_id=message.id).exists():
            return Lookup.SENT, provider_id(message.id)
        return Lookup.NOT_SENT, ""


def provider_id(notification_id: str) -> str:
    return f"console-{notification_id}"


def _masked(message: OutboundMessage) -> str:
    if message.channel == "sms":
        return mask_mobiles(message.to)
    local, _, domain = message.to.rpartition("@")
    return f"{local[:1]}***@{domain}"
