import json
from typing import Any

from django.core.management.base import CommandParser

from apps.core.commands import OperatorCommand
from apps.inbound.models import Gateway
from apps.inbound.scope import countries_parse
from apps.inbound.services import gateway_create

from ._gateway_options import (
    add_json_option,
    add_secret_option,
    add_send_options,
    endpoint_for,
    receipt_path_for,
    send_config_from,
    sending_text,
)


class Command(OperatorCommand):
    help = (
        "Create a gateway and print its secret once: native, android, twilio and jasmin receive SMS; "
        "android, twilio and jasmin also send SMS given their sending API (--send-*); smtp sends email "
        "and console (development: kept in the admin's outbox) sends both, with no secret."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=Gateway.Kind.values)
        parser.add_argument("name")
        add_secret_option(parser)
        parser.add_argument(
            "--countries",
            default="",
            help="Sender country calling codes it may deliver, and destinations it may send to, "
            "e.g. 91,44 (default: any)",
        )
        parser.add_argument(
            "--receiving-number",
            default="",
            help="The number it receives on; deliveries to another number (Twilio To, Android recipient, "
            "Jasmin to) are refused",
        )
        add_send_options(parser)
        add_json_option(parser, fields="gateway_id, kind, secret, sends")

    def handle(self, *args: Any, **options: Any) -> None:
        gateway, secret = gateway_create(**self.create_arguments(options), actor=self.actor)
        if options["json"]:
            shown = {
                "gateway_id": str(gateway.id),
                "kind": gateway.kind,
                "secret": secret,
                "sends": gateway.sends,
            }
            self.stdout.write(json.dumps(shown))
            return
        self.stdout.write(f"Gateway: {gateway.name} ({gateway.kind}) id={gateway.id}")
        if secret:
            self.stdout.write(f"Secret:  {secret}")
        self.stdout.write(f"Endpoint: {endpoint_for(gateway)}")
        self.stdout.write(f"Sends:   {sending_text(gateway)}")
        receipts = receipt_path_for(gateway)
        if gateway.sends and receipts:
            self.stdout.write(f"Delivery receipts: POST {receipts}")
        if secret:
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
            "send": send_config_from(options),
        }
