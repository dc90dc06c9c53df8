import json
from dataclasses import asdict
from typing import Any

from django.core.management.base import CommandParser
from django.db import DatabaseError, InterfaceError

from apps.core.broker import celery_queue_lengths
from apps.core.commands import OperatorCommand
from apps.core.health import health_report
from apps.core.selectors import heartbeat_age, queue_stats
from apps.inbound.outbox import sms_outbox_size
from apps.messaging.dashboard import NotificationStats, notification_stats


class Command(OperatorCommand):
    help = (
        "Show queue lengths, in-flight batches, dead letters, lag (age of the oldest event), "
        "the Celery queues, heartbeats, and the notifications queued, scheduled for a retry "
        "and sent or failed per gateway."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        stats = queue_stats()
        health = health_report()
        age, celery_queues = heartbeat_age(), celery_queue_lengths()
        notifications = notification_stats()
        outbox = _outbox_size()
        if options["json"]:
            queues = [asdict(s) for s in stats]
            report = {
                "health": health,
                "heartbeat_age_seconds": age,
                "queues": queues,
                "celery_queues": celery_queues,
                "notifications": asdict(notifications),
                "inbound_outbox": outbox,
            }
            self.stdout.write(json.dumps(report))
            return
        self.stdout.write(
            f"status: {health['status']}  redis: {health['redis']}  database: {health['database']}"
        )
        last = "no heartbeat yet" if age is None else f"last heartbeat {age} s ago"
        self.stdout.write(f"background workers: {health['background_workers']} ({last})")
        width = max([10, *(len(s.name) for s in stats)])  # notification_events is the longest name
        self.stdout.write(f"{'queue':<{width}} {'waiting':>8} {'in flight':>10} {'dead':>6} {'lag (s)':>9}")
        for s in stats:
            self.stdout.write(
                f"{s.name:<{width}} {s.waiting:>8} {s.in_flight:>10} {s.dead:>6} {s.lag_seconds:>9}"
            )
        waiting = "  ".join(f"{name} {length}" for name, length in celery_queues.items())
        self.stdout.write(f"celery queues (messages waiting): {waiting}")
        self._notifications(notifications)
        if outbox:
            self.stdout.write(f"inbound outbox: {outbox} SMS kept while Redis was away, waiting to be queued")
        if any(s.dead for s in stats):
            self.stdout.write("dead letters: /admin/dead-letters/ lists them")

    def _notifications(self, stats: NotificationStats) -> None:
        self.stdout.write(
            f"notifications: {stats.queued} queued (waiting or in flight)  "
            f"{stats.retries_scheduled} retries scheduled  lag {stats.lag_seconds} s"
        )
        sends = "  ".join(f"{g.name}: sent {g.sent} failed {g.failed}" for g in stats.gateways)
        self.stdout.write(f"notifications per gateway: {sends or 'nothing sent yet'}")


def _outbox_size() -> int | None:
    """None when PostgreSQL cannot say (the status must still print what Redis has)."""
    try:
        return sms_outbox_size()
    except (DatabaseError, InterfaceError):
        return None
