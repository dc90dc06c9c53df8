from typing import Any

from django.core.management.base import CommandError

from apps.abuse.services import abuse_sweep
from apps.core.commands import OperatorCommand


class Command(OperatorCommand):
    help = "Sweep abuse counters now and blacklist every number at or over abuse_threshold."

    def handle(self, *args: Any, **options: Any) -> None:
        added = abuse_sweep(progress=lambda scanned: self.stdout.write(f"  scanned {scanned} counters"))
        if added < 0:
            raise CommandError("Another sweep is running; try again when it has finished.")
        self.stdout.write(self.style.SUCCESS(f"{added} numbers newly blacklisted"))
