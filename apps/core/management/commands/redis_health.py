import json
import time
import uuid
from typing import Any

import redis
from django.core.management.base import CommandParser

from apps.core import keys
from apps.core.commands import OperatorCommand
from apps.core.redis import Role, get_redis

ROLES: tuple[Role, ...] = ("data", "broker", "results", "cache")


class Command(OperatorCommand):
    help = (
        "Check each Redis role (data, broker, results, cache) with a full round trip: "
        "write a key with a TTL, read it back, delete it. Exit code 1 when any role fails."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        results = {role: _round_trip(role) for role in ROLES}
        if options["json"]:
            self.stdout.write(json.dumps(results))
        else:
            for role, result in results.items():
                line = f"{role:<8} {result['status']:<6} {result['ms']} ms {result.get('error', '')}"
                self.stdout.write(
                    self.style.SUCCESS(line) if result["status"] == "ok" else self.style.ERROR(line)
                )
        if any(r["status"] != "ok" for r in results.values()):
            raise SystemExit(1)


def _round_trip(role: Role) -> dict[str, Any]:
    key = keys.lock(f"health-probe:{uuid.uuid4().hex}")
    token = uuid.uuid4().hex
    started = time.perf_counter()
    try:
        client = get_redis(role)
        client.set(key, token, ex=30)
        echoed = client.get(key)
        client.delete(key)
    except redis.RedisError as exc:
        return {"status": "error", "ms": _ms(started), "error": f"{type(exc).__name__}: {exc}"}
    if echoed != token:
        return {"status": "error", "ms": _ms(started), "error": "read back a different value"}
    return {"status": "ok", "ms": _ms(started)}


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
