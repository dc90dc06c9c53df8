from typing import Any

from django.core.management.base import CommandError, CommandParser

from apps.core.commands import OperatorCommand
from apps.core.repair import redis_repair


class Command(OperatorCommand):
    help = (
        "Load verified numbers, the blacklist and credentials from the database into Redis "
        "(what the repair task does on its own when Redis has lost its data)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-needed", action="store_true", help="Only when Redis has lost its data (default: always)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(label: str, count: int) -> None:
            self.stdout.write(f"  {label}: {count}")

        report = redis_repair(force=not options["if_needed"], progress=progress)
        if report is None:
            if options["if_needed"]:
                self.stdout.write("Redis already holds its data; nothing to do.")
                return
            raise CommandError("Another process is repairing Redis right now; try again in a moment.")
        counts = ", ".join(f"{count} {name}" for name, count in report.loaded.items())
        self.stdout.write(self.style.SUCCESS(f"Redis warmed: {counts} in {report.seconds} s"))
