from typing import Any

from django.core.management.base import CommandParser

from apps.clients.selectors import client_get
from apps.clients.services import client_activate, client_deactivate
from apps.core.commands import OperatorCommand


class Command(OperatorCommand):
    help = (
        "Deactivate a client (its API keys are refused, kept for later) or activate it again. "
        "Changes reach every web process within CREDENTIAL_LOCAL_CACHE_SECONDS."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        for action, text in (
            ("deactivate", "Refuse the client's API keys"),
            ("activate", "Accept its API keys again"),
        ):
            actions.add_parser(action, help=text).add_argument("id", help="The client's id")

    def handle(self, *args: Any, **options: Any) -> None:
        client = client_get(client_id=options["id"])
        if options["action"] == "deactivate":
            changed = client_deactivate(client=client, actor=self.actor)
            self.stdout.write(f"{client} ({client.id}): {'deactivated' if changed else 'already inactive'}.")
        else:
            changed = client_activate(client=client, actor=self.actor)
            self.stdout.write(f"{client} ({client.id}): {'activated' if changed else 'already active'}.")
