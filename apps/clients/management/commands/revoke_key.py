from typing import Any

from django.core.management.base import CommandParser

from apps.clients.selectors import api_key_find
from apps.clients.services import api_key_revoke
from apps.core.commands import OperatorCommand


class Command(OperatorCommand):
    help = "Revoke an API key, given the key itself or its 12-character prefix (as the admin shows it)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("key", help="The full API key, or its prefix (sbk_xxxxxxxx)")

    def handle(self, *args: Any, **options: Any) -> None:
        key = api_key_find(given=options["key"])
        if not api_key_revoke(api_key=key, actor=self.actor):
            revoked_at = f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "?"
            self.stdout.write(f"{key.prefix}… of {key.client} was already revoked at {revoked_at}.")
            return
        self.stdout.write(self.style.SUCCESS(f"Revoked {key.prefix}… of {key.client}."))
