"""Health of the bridge's parts, answered quickly and never with an exception."""

import logging
import time

import redis
from django.conf import settings
from django.db import DatabaseError, InterfaceError, connection

from . import keys
from .redis import get_redis
from .selectors import heartbeat_age

logger = logging.getLogger(__name__)

# What background_workers can say; "running" and "starting" keep the bridge healthy.
WORKER_STATES = ("running", "starting", "stale", "not_running", "unknown")
WORKERS_OK = {"running", "starting"}


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


def background_start_record() -> None:
    """Beat or a housekeeping worker is starting (a Celery signal calls this).

    Its first heartbeat comes an interval or so later; until then, and for at most
    HEARTBEAT_STALE_AFTER seconds, /health says "starting" instead of calling the
    workers down. A process that cannot reach Redis starts anyway.
    """
    try:
        get_redis().set(keys.heartbeat_started(), time.time(), ex=max(1, int(settings.HEARTBEAT_STALE_AFTER)))
    except redis.RedisError as exc:
        logger.warning("could not record this process's start for /health: %s", exc)


def background_workers_status() -> str:
    """``running`` when a beat-queued heartbeat ran recently; ``starting`` while beat or the
    housekeeping pool has just started and not run one since; else ``stale`` or ``not_running``."""
    try:
        age = heartbeat_age()
        started = get_redis().get(keys.heartbeat_started())
    except redis.RedisError:
        return "unknown"
    since_start = None if started is None else max(0.0, time.time() - float(str(started)))
    return workers_state(heartbeat_age=age, since_start=since_start)


def workers_state(*, heartbeat_age: float | None, since_start: float | None) -> str:
    """The state from the last heartbeat's age and the seconds since the last recorded start."""
    if heartbeat_age is not None and heartbeat_age < settings.HEARTBEAT_STALE_AFTER:
        return "running"
    if since_start is not None and since_start < settings.HEARTBEAT_STALE_AFTER:
        if heartbeat_age is None or heartbeat_age > since_start:
            return "starting"  # no heartbeat since that start, and still within the grace
    return "not_running" if heartbeat_age is None else "stale"


def health_report() -> dict[str, str]:
    report = {
        "redis": redis_status(),
        "database": database_status(),
        "background_workers": background_workers_status(),
    }
    healthy = (
        report["redis"] == "ok" and report["database"] == "ok" and report["background_workers"] in WORKERS_OK
    )
    return {"status": "healthy" if healthy else "degraded", **report}
