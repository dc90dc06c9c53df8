from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.clients.models import ApiKey
from apps.clients.services import api_key_hash, api_key_revoke


class Command(BaseCommand):
    help = "Revoke an API key, given the key itself or its 12-character prefix (as the admin shows it)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("key", help="The full API key, or its prefix (sbk_xxxxxxxx)")

    def handle(self, *args: Any, **options: Any) -> None:
        given = options["key"].strip()
        matches = list(ApiKey.objects.filter(key_hash=api_key_hash(given))) or list(
            ApiKey.objects.filter(prefix=given[:12])
        )
        if not matches:
            raise CommandError(f"No API key matches {given[:12]!r}.")
        if len(matches) > 1:
            raise CommandError(f"{len(matches)} keys share the prefix {given[:12]!r}; give the full key.")
        key = matches[0]
        if key.revoked_at is not None:
            self.stdout.write(
                f"{key.prefix}… of {key.client} was already revoked at {key.revoked_at:%Y-%m-%d %H:%M}."
            )
            return
        api_key_revoke(api_key=key)
        self.stdout.write(self.style.SUCCESS(f"Revoked {key.prefix}… of {key.client}."))
