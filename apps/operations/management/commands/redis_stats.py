import json
from dataclasses import asdict
from typing import Any

import redis
from django.core.management.base import CommandError, CommandParser

from apps.core.commands import OperatorCommand
from apps.operations import dashboard


class Command(OperatorCommand):
    help = (
        "Redis INFO figures (memory, ops/s, hit rate, clients) and key counts per family, "
        "counted with SCAN (never KEYS) within a time budget."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print one JSON object")
        parser.add_argument(
            "--budget", type=float, default=30.0, help="Seconds the key count may take (default 30)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            stats = dashboard.redis_stats(scan_budget_seconds=options["budget"])
        except redis.RedisError as exc:
            raise CommandError(f"Redis unavailable: {exc}") from exc
        if options["json"]:
            self.stdout.write(json.dumps(asdict(stats)))
            return
        hit_rate = "n/a" if stats.hit_rate is None else f"{stats.hit_rate:.1%}"
        self.stdout.write(
            f"redis {stats.version}: memory {stats.used_memory_human}, {stats.ops_per_sec} ops/s, "
            f"hit rate {hit_rate}, {stats.connected_clients} clients, {stats.total_keys} keys"
        )
        self.stdout.write(
            f"verified numbers: {stats.verified_numbers}, blacklisted: {stats.blacklisted_numbers}"
        )
        bound = "" if stats.families_complete else " (at least: the scan ran out of time)"
        for family in stats.families:
            self.stdout.write(f"  {family.pattern:<18} {family.count}{bound}")
