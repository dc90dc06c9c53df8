import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.exceptions import ApplicationError
from apps.inbound.models import Gateway
from apps.inbound.services import gateway_create


class Command(BaseCommand):
    help = "Create an inbound SMS gateway (native, android, twilio or jasmin) and print its secret."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=Gateway.Kind.values)
        parser.add_argument("name")
        parser.add_argument(
            "--secret",
            default=None,
            help="The gateway's secret (HMAC key, Twilio auth token, Jasmin or bearer token); generated when omitted",
        )
        parser.add_argument(
            "--json", action="store_true", help="Print one JSON object {gateway_id, kind, secret}"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            gateway = gateway_create(kind=options["kind"], name=options["name"], secret=options["secret"])
        except ApplicationError as exc:
            raise CommandError(exc.detail) from exc
        if options["json"]:
            self.stdout.write(
                json.dumps({"gateway_id": str(gateway.id), "kind": gateway.kind, "secret": gateway.secret})
            )
            return
        self.stdout.write(f"Gateway: {gateway.name} ({gateway.kind}) id={gateway.id}")
        self.stdout.write(f"Secret:  {gateway.secret}")
        self.stdout.write(f"Endpoint: {endpoint_for(gateway)}")


def endpoint_for(gateway: Gateway) -> str:
    if gateway.kind == Gateway.Kind.NATIVE:
        return "POST /sms/receive with 'Authorization: Bearer <secret>'"
    if gateway.kind == Gateway.Kind.JASMIN:
        return f"POST /sms/receive/jasmin/{gateway.id}?token=<secret>"
    return f"POST /sms/receive/{gateway.kind}/{gateway.id}"
