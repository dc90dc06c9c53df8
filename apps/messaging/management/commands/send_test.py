"""Send one message through one gateway now, to check its sending settings.

It goes straight to the provider's adapter, not through the queue: no notification, no
retry, no failover to another gateway, so what it prints is what that gateway answered.
"""

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from django.core.validators import validate_email

from apps.core.commands import OperatorCommand
from apps.core.exceptions import ApplicationError
from apps.core.phone import mobile_parse
from apps.inbound.models import Gateway

from ...providers import provider_for
from ...providers.base import GatewayError, MessageRejected, OutboundMessage, SendingGateway
from ...services.routing import sending_gateway, sending_gateways

DEFAULT_BODY = "Test message from SMS Bridge (manage.py send_test)."
DEFAULT_SUBJECT = "SMS Bridge test"
SERVES = {"sms": "SMS", "email": "email", "any": "SMS and email"}


class Command(OperatorCommand):
    help = (
        "Send one message now through a gateway (given by id, by kind: the first active sending "
        "gateway of that kind, or by name) and print the provider's message id."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "gateway", help="A gateway id, a kind (android, twilio, jasmin, smtp, console) or a name"
        )
        parser.add_argument("to", help="A mobile number (SMS) or an email address")
        parser.add_argument("--body", default=DEFAULT_BODY, help="The message text")
        parser.add_argument("--subject", default=DEFAULT_SUBJECT, help="The subject, for email")

    def handle(self, *args: Any, **options: Any) -> None:
        gateway = gateway_pick(options["gateway"])
        serves = SERVES[gateway.channel]
        channel, to = destination_for(gateway, options["to"])
        if not options["body"].strip():
            raise CommandError("--body must not be empty.")
        message = OutboundMessage(
            id=str(uuid.uuid4()),
            channel=channel,
            to=to,
            body=options["body"],
            subject=options["subject"] if channel == "email" else "",
        )
        try:
            sent = provider_for(gateway.kind).send(gateway, message)
        except (GatewayError, MessageRejected) as exc:
            raise CommandError(f"{gateway.name} ({gateway.kind}, sends {serves}) failed: {exc}") from exc
        self.stdout.write(f"Sent {channel} to {to} through {gateway.name} ({gateway.kind}, sends {serves}).")
        self.stdout.write(f"Provider message id: {sent.provider_id}")


def gateway_pick(raw: str) -> SendingGateway:
    """By id, else the first active sending gateway of a kind, else by name.

    An id or a name picks that gateway even when it is inactive (to try it before turning
    it on); a kind picks among the active ones, in sending order.
    """
    text = raw.strip()
    try:
        return _set_up(Gateway.objects.get(pk=uuid.UUID(text)))
    except ValueError:
        pass
    except Gateway.DoesNotExist:
        raise CommandError(f"No gateway has the id {text}.") from None
    if text in Gateway.Kind.values:
        found = next((g for g in sending_gateways(fresh=True) if g.kind == text), None)
        if found is None:
            raise CommandError(f"No active {text} gateway is set up to send.")
        return found
    named = list(Gateway.objects.filter(name=text)[:2])
    if not named:
        raise CommandError(f"No gateway is named {text!r} (nor is it a gateway id or kind).")
    if len(named) > 1:
        raise CommandError(f"More than one gateway is named {text!r}: give its id.")
    return _set_up(named[0])


def _set_up(gateway: Gateway) -> SendingGateway:
    if not gateway.sends:
        raise CommandError(
            f"{gateway.name} ({gateway.kind}) is not set up to send: give it a send URL "
            "(Twilio: a send username) with create_gateway's --send-* options or in the admin."
        )
    return sending_gateway(gateway)


def destination_for(gateway: SendingGateway, raw: str) -> tuple[str, str]:
    """(channel, destination) on the channel the gateway serves; a console gateway serves
    both, so the destination's form says which."""
    channel = gateway.channel
    if channel == "any":
        channel = "email" if "@" in raw else "sms"
    if channel == "sms":
        try:
            return channel, mobile_parse(raw).e164
        except ApplicationError as exc:
            raise CommandError(f"{gateway.name} sends {SERVES[gateway.channel]}: {exc.detail}") from exc
    address = raw.strip()
    try:
        validate_email(address)
    except ValidationError:
        raise CommandError(
            f"{gateway.name} sends {SERVES[gateway.channel]}: {raw!r} is not an email address."
        ) from None
    return channel, address
