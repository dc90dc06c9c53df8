import json
from typing import Any

from django.core.management.base import CommandParser

from apps.core.commands import OperatorCommand
from apps.inbound.models import Gateway
from apps.inbound.scope import countries_parse
from apps.inbound.services import gateway_create

from ._gateway_options import add_json_option, add_secret_option, endpoint_for


class Command(OperatorCommand):
    help = "Create an inbound SMS gateway (native, android, twilio or jasmin) and print its secret once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=Gateway.Kind.values)
        parser.add_argument("name")
        add_secret_option(parser)
        parser.add_argument(
            "--countries",
            default="",
            help="Sender country calling codes it may deliver, e.g. 91,44 (default: any)",
        )
        parser.add_argument(
            "--receiving-number",
            default="",
            help="The number it receives on; deliveries to another number (Twilio To, Android recipient, "
            "Jasmin to) are refused",
        )
        add_json_option(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        gateway, secret = gateway_create(**self.create_arguments(options), actor=self.actor)
        if options["json"]:
            self.stdout.write(
                json.dumps({"gateway_id": str(gateway.id), "kind": gateway.kind, "secret": secret})
            )
            return
        self.stdout.write(f"Gateway: {gateway.name} ({gateway.kind}) id={gateway.id}")
        self.stdout.write(f"Secret:  {secret}")
        self.stdout.write(f"Endpoint: {endpoint_for(gateway)}")
        self.stdout.write(self.style.WARNING("Store the secret now: it is shown only once."))

    def create_arguments(self, options: dict[str, Any]) -> dict[str, Any]:
        """gateway_create's arguments from the options; a new option adds one line here."""
        countries = countries_parse(options["countries"])
        return {
            "kind": options["kind"],
            "name": options["name"],
            "secret": options["secret"],
            "countries": countries,
            "receiving_number": options["receiving_number"],
        }
