"""Rebuild Redis from PostgreSQL when Redis has lost its data.

Redis runs the hot path alone, so after a restart without persistence, a failover or
a flush, the verified and blacklisted sets must come back before anything trusts them.
The ``redis_ready`` marker is written last: until it exists, register and status
answer 503 and the pipeline judges nothing, so a verified number can never onboard
again in the gap. The beat task repairs within REDIS_REPAIR_INTERVAL; a request that
finds the marker missing also queues a repair at once.

What to rebuild comes from the registry (``apps.core.registry``): each app declares its
sets and credential mirrors, so this module names none of them.
"""

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import redis
from django.db import DatabaseError, InterfaceError
from rest_framework import status

from . import keys, registry
from .exceptions import ApplicationError
from .locks import lock_hold
from .redis import get_redis

logger = logging.getLogger(__name__)

REPAIR_LOCK = "redis_repair"
WARMING_RETRY_AFTER = 5  # seconds; a repair of a million numbers takes a few
Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class RepairReport:
    loaded: dict[str, int]  # rebuilt set's name -> members added, in registry order
    seconds: float

    def __getattr__(self, name: str) -> int:
        """A set's count by its name, as ``report.verified``."""
        loaded = self.__dict__.get("loaded", {})  # not self.loaded: no recursion before __init__
        if name not in loaded:
            raise AttributeError(name)
        return int(loaded[name])

    def as_dict(self) -> dict[str, float]:
        """The task's result: ``{"verified": ..., "blacklisted": ..., "seconds": ...}``."""
        return {**self.loaded, "seconds": self.seconds}


def redis_is_ready() -> bool:
    return bool(get_redis().exists(keys.redis_ready()))


def redis_repair(*, force: bool = False, progress: Progress | None = None) -> RepairReport | None:
    """Load the sets from PostgreSQL if Redis lost them (or always, with ``force``).

    Returns None when there was nothing to do or another process is repairing. Only
    adds members: Redis may hold newer verdicts and blacklistings not yet drained.
    """
    if not force and redis_is_ready():
        return None
    with lock_hold(REPAIR_LOCK, timeout=300) as lock:
        if lock is None:
            return None
        started = time.monotonic()
        loaded = {s.name: _load_set(s.key(), s.members(), progress, s.label) for s in registry.redis_sets()}
        for directory in registry.mirrors():
            directory.rebuild()
        get_redis().set(keys.redis_ready(), time.time())
    report = RepairReport(loaded, round(time.monotonic() - started, 3))
    # Expected on every fresh or restarted Redis (make run's first start, a deploy): not a warning.
    logger.info("redis repaired from the database: %s", report)
    return report


def redis_ensure_ready() -> bool:
    """True when the sets can be trusted, repairing first if needed (workers only: SQL)."""
    try:
        if redis_is_ready():
            return True
        redis_repair()
        return redis_is_ready()
    except (DatabaseError, InterfaceError, redis.RedisError) as exc:
        logger.warning("redis is not ready and cannot be repaired yet: %s", exc)
        return False


def _load_set(key: str, members: Iterator[str], progress: Progress | None, label: str) -> int:
    total = 0
    chunk: list[str] = []
    for member in members:
        chunk.append(member)
        if len(chunk) == registry.REBUILD_CHUNK:
            total += _sadd(key, chunk)
            chunk = []
            if progress:
                progress(label, total)
    total += _sadd(key, chunk)
    if progress:
        progress(label, total)
    return total


def _sadd(key: str, members: list[str]) -> int:
    if members:
        get_redis().sadd(key, *members)
    return len(members)


def warming_up_error() -> ApplicationError:
    """The 503 of a hot-path request that found Redis without its data (no ``redis_ready``);
    queues the repair that reloads it, at once rather than at beat's next tick."""
    registry.work_wake(registry.REDIS_REPAIR)
    return ApplicationError(
        "Reloading after a restart; retry shortly.",
        code="warming_up",
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        retry_after=WARMING_RETRY_AFTER,
    )
