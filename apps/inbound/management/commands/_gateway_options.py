"""Options of ``create_gateway`` and ``gateway``, shared so both read the same way."""

import uuid

from django.core.management.base import CommandError, CommandParser

from apps.inbound.models import Gateway
from apps.inbound.send_config import SendConfig

# Kinds whose sends the provider reports on later (delivered or not), at a URL of the bridge.
RECEIPT_KINDS = frozenset({Gateway.Kind.ANDROID, Gateway.Kind.TWILIO, Gateway.Kind.JASMIN})


def add_secret_option(parser: CommandParser) -> None:
    parser.add_argument(
        "--secret",
        default=None,
        help="The gateway's secret (HMAC key, Twilio auth token, Jasmin or bearer token); generated when omitted",
    )


def add_json_option(parser: CommandParser, *, fields: str = "gateway_id, kind, secret") -> None:
    parser.add_argument("--json", action="store_true", help=f"Print one JSON object {{{fields}}}")


def add_send_options(parser: CommandParser) -> None:
    """How the gateway reaches its provider's sending API (apps.inbound.send_config)."""
    parser.add_argument(
        "--send-url",
        default="",
        help="Sending API: the Android gateway's base URL, Jasmin's HTTP API, Twilio's API base "
        "(default https://api.twilio.com) or smtp://host:port (default: the EMAIL_HOST settings)",
    )
    parser.add_argument(
        "--send-username", default="", help="Sending API user: Android login, Jasmin user, Twilio Account SID"
    )
    parser.add_argument(
        "--send-password",
        default="",
        help="Sending API password, stored encrypted (default: the gateway's secret, as Twilio's auth token)",
    )
    parser.add_argument(
        "--send-from", default="", help="Sender: a number or sender id for SMS, an address for email"
    )
    parser.add_argument(
        "--priority",
        type=int,
        default=100,
        help="Sending order among gateways covering a destination: lower first",
    )


def send_config_from(options: dict[str, object]) -> SendConfig:
    return SendConfig(
        url=str(options["send_url"]),
        username=str(options["send_username"]),
        password=str(options["send_password"]),
        from_=str(options["send_from"]),
        priority=int(str(options["priority"])),
    )


def gateway_get(raw_id: str) -> Gateway:
    try:
        gateway_id = uuid.UUID(raw_id)
    except ValueError as exc:
        raise CommandError(f"{raw_id!r} is not a gateway id (a UUID).") from exc
    gateway = Gateway.objects.filter(pk=gateway_id).first()
    if gateway is None:
        raise CommandError(f"No gateway has the id {gateway_id}.")
    return gateway


def endpoint_for(gateway: Gateway) -> str:
    if not gateway.receives:
        return "none: it only sends"
    if gateway.kind == Gateway.Kind.NATIVE:
        return "POST /sms/receive with 'Authorization: Bearer <secret>'"
    if gateway.kind == Gateway.Kind.JASMIN:
        return f"POST /sms/receive/jasmin/{gateway.id}?token=<secret>"
    return f"POST /sms/receive/{gateway.kind}/{gateway.id}"


def receipt_path_for(gateway: Gateway) -> str:
    """Where the provider posts its delivery receipts; "" for kinds that send none."""
    return f"/notifications/receipts/{gateway.kind}/{gateway.id}" if gateway.kind in RECEIPT_KINDS else ""


def sending_text(gateway: Gateway) -> str:
    """The sending settings in one line, the password only as set or not."""
    if not gateway.sends:
        return "no (give --send-url, or --send-username for Twilio, to send through it)"
    channel = {"sms": "SMS", "email": "email", "any": "SMS and email"}[gateway.channel]
    settings = [
        f"url {gateway.send_url}" if gateway.send_url else "",
        f"username {gateway.send_username}" if gateway.send_username else "",
        "password set" if gateway.send_password else "",
        f"from {gateway.send_from}" if gateway.send_from else "",
        f"priority {gateway.priority}",
    ]
    return f"{channel}; " + ", ".join(s for s in settings if s)
