from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from apps.audit.services import audit_purge
from apps.core.commands import OperatorCommand


class Command(OperatorCommand):
    help = "Delete monitor events older than the retention period (AUDIT_RETENTION_DAYS)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days", type=int, default=settings.AUDIT_RETENTION_DAYS, help="Keep this many days"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["days"] < 0:
            # A negative age would put the cut-off in the future and delete every event.
            raise CommandError(f"--days must be 0 or more, not {options['days']}.")
        deleted = audit_purge(older_than_days=options["days"])
        self.stdout.write(
            self.style.SUCCESS(f"{deleted} monitor events older than {options['days']} days deleted")
        )
