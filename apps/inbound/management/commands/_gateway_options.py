"""Options of ``create_gateway`` and ``gateway``, shared so both read the same way."""

import uuid

from django.core.management.base import CommandError, CommandParser

from apps.inbound.models import Gateway


def add_secret_option(parser: CommandParser) -> None:
    parser.add_argument(
        "--secret",
        default=None,
        help="The gateway's secret (HMAC key, Twilio auth token, Jasmin or bearer token); generated when omitted",
    )


def add_json_option(parser: CommandParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="Print one JSON object {gateway_id, kind, secret}"
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
    if gateway.kind == Gateway.Kind.NATIVE:
        return "POST /sms/receive with 'Authorization: Bearer <secret>'"
    if gateway.kind == Gateway.Kind.JASMIN:
        return f"POST /sms/receive/jasmin/{gateway.id}?token=<secret>"
    return f"POST /sms/receive/{gateway.kind}/{gateway.id}"
