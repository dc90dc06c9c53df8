import json
from dataclasses import asdict
from typing import Any

from django.core.management.base import CommandParser

from apps.core.broker import celery_queue_lengths
from apps.core.commands import OperatorCommand
from apps.core.health import health_report
from apps.core.selectors import heartbeat_age, queue_stats


class Command(OperatorCommand):
    help = (
        "Show queue lengths, in-flight batches, dead letters, lag (age of the oldest event), "
        "the Celery queues and heartbeats."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        stats = queue_stats()
        health = health_report()
        age, celery_queues = heartbeat_age(), celery_queue_lengths()
        if options["json"]:
            queues = [asdict(s) for s in stats]
            report = {
                "health": health,
                "heartbeat_age_seconds": age,
                "queues": queues,
                "celery_queues": celery_queues,
            }
            self.stdout.write(json.dumps(report))
            return
        self.stdout.write(
            f"status: {health['status']}  redis: {health['redis']}  database: {health['database']}"
        )
        last = "no heartbeat yet" if age is None else f"last heartbeat {age} s ago"
        self.stdout.write(f"background workers: {health['background_workers']} ({last})")
        self.stdout.write(f"{'queue':<10} {'waiting':>8} {'in flight':>10} {'dead':>6} {'lag (s)':>9}")
        for s in stats:
            self.stdout.write(f"{s.name:<10} {s.waiting:>8} {s.in_flight:>10} {s.dead:>6} {s.lag_seconds:>9}")
        waiting = "  ".join(f"{name} {length}" for name, length in celery_queues.items())
        self.stdout.write(f"celery queues (messages waiting): {waiting}")
        if any(s.dead for s in stats):
            self.stdout.write("dead letters: /admin/dead-letters/ lists them")
