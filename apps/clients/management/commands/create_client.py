import json
from typing import Any

from django.core.management.base import CommandParser

from apps.clients.services import client_create
from apps.core.commands import OperatorCommand


class Command(OperatorCommand):
    help = "Create a client app with one API key; the key is printed once and stored hashed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Client app name (unique, ignoring case)")
        parser.add_argument(
            "--webhook-url", default="", help="Where verified-number callbacks are POSTed (https://...)"
        )
        parser.add_argument(
            "--json", action="store_true", help="Print one JSON object {client_id, api_key, webhook_secret}"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        client, api_key = client_create(
            name=options["name"], webhook_url=options["webhook_url"], actor=self.actor
        )
        if options["json"]:
            out = {"client_id": str(client.id), "api_key": api_key, "webhook_secret": client.webhook_secret}
            self.stdout.write(json.dumps(out))
            return
        self.stdout.write(f"Client:         {client.name} ({client.id})")
        self.stdout.write(f"API key:        {api_key}")
        self.stdout.write(f"Webhook secret: {client.webhook_secret}")
        self.stdout.write(self.style.WARNING("Store the API key now: it is shown only once."))
