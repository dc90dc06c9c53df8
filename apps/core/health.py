"""Health of the bridge's parts, answered quickly and never with an exception.

Redis is asked through ``probe_redis`` (HEALTH_REDIS_TIMEOUT, 0.1 s) and not at all while
the data breaker is open, so /health answers within 200 ms when Redis is hung, refusing
or loading: a monitor that times out on /health would call the whole bridge dead.
"""

import logging
import time

import redis
from django.conf import settings
from django.db import DatabaseError, InterfaceError, connection

from . import keys
from .redis import data_breaker, get_redis, probe_redis

logger = logging.getLogger(__name__)

# What background_workers can say; "running" and "starting" keep the bridge healthy.
WORKER_STATES = ("running", "starting", "stale", "not_running", "unknown")
WORKERS_OK = {"running", "starting"}


def redis_status() -> str:
    if data_breaker().is_open:
        return "error: RedisUnavailable"  # failed a moment ago: the breaker's probe will tell
    try:
        return "ok" if probe_redis().ping() else "unreachable"
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
    if data_breaker().is_open:
        return "unknown"
    try:
        beat, started = probe_redis().mget(keys.heartbeat("worker"), keys.heartbeat_started())
    except redis.RedisError:
        return "unknown"
    age = None if beat is None else round(time.time() - float(str(beat)), 3)
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
    redis_state = redis_status()
    report = {
        "redis": redis_state,
        "database": database_status(),
        # One probe time-out is the budget: a Redis that just failed is not asked twice.
        "background_workers": background_workers_status() if redis_state == "ok" else "unknown",
    }
    healthy = (
        report["redis"] == "ok" and report["database"] == "ok" and report["background_workers"] in WORKERS_OK
    )
    return {"status": "healthy" if healthy else "degraded", **report}
