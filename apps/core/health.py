"""Health of the bridge's parts, answered quickly and never with an exception."""

import redis
from django.conf import settings
from django.db import DatabaseError, InterfaceError, connection

from .redis import get_redis
from .selectors import heartbeat_age


def redis_status() -> str:
    try:
        return "ok" if get_redis().ping() else "unreachable"
    except redis.RedisError as exc:
        return f"error: {type(exc).__name__}"


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except (DatabaseError, InterfaceError) as exc:
        return f"error: {type(exc).__name__}"


def background_workers_status() -> str:
    """``running`` when a beat-queued heartbeat ran recently, else ``stale`` or ``not_running``."""
    try:
        age = heartbeat_age()
    except redis.RedisError:
        return "unknown"
    if age is None:
        return "not_running"
    return "running" if age < settings.HEARTBEAT_STALE_AFTER else "stale"


def health_report() -> dict[str, str]:
    report = {
        "redis": redis_status(),
        "database": database_status(),
        "background_workers": background_workers_status(),
    }
    healthy = (
        report["redis"] == "ok" and report["database"] == "ok" and report["background_workers"] == "running"
    )
    return {"status": "healthy" if healthy else "degraded", **report}
