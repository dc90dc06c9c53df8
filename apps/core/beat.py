"""A Celery beat scheduler of which only one instance sends tasks at a time.

Every beat process ticks, but only the holder of a short Redis lock sends anything;
the others wait as hot standbys. The holder renews the lock several times per
timeout, so a dead holder is replaced within BEAT_LOCK_TIMEOUT seconds. The lock is
re-acquired on any tick, so a Redis restart (lock and all) never leaves the cluster
without a beat, and the schedule itself lives in each process's memory, not in Redis.
"""

import logging
from typing import Any

import redis
from celery.beat import Scheduler
from django.conf import settings
from redis.exceptions import LockError
from redis.lock import Lock

from . import keys
from .redis import get_redis

logger = logging.getLogger(__name__)


class SingleBeatScheduler(Scheduler):
    _lock: Lock | None = None

    @property
    def renew_every(self) -> float:
        return max(0.5, settings.BEAT_LOCK_TIMEOUT / 3)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if not self._hold_lock():
            return self.renew_every
        return min(super().tick(*args, **kwargs), self.renew_every)

    def _hold_lock(self) -> bool:
        try:
            if self._lock is not None:
                try:
                    self._lock.extend(settings.BEAT_LOCK_TIMEOUT, replace_ttl=True)
                    return True
                except LockError:
                    logger.warning("beat: lost the scheduling lock; standing by")
                    self._lock = None
            lock = get_redis().lock(keys.lock("beat"), timeout=settings.BEAT_LOCK_TIMEOUT, blocking=False)
            if lock.acquire():
                logger.info("beat: acquired the scheduling lock; this beat now sends the periodic tasks")
                self._lock = lock
                return True
        except redis.RedisError as exc:
            # Transient: unreachable, or restarted and "loading the dataset" (BusyLoadingError).
            # The lock's token is kept: a Redis that comes back with its data (AOF) still holds
            # our lock, and the next renewal carries on instead of waiting BEAT_LOCK_TIMEOUT for
            # our own lock to expire; if it expired meanwhile, the renewal says so (LockError).
            logger.warning("beat: Redis unavailable, not scheduling: %s", exc)
        return False

    def close(self) -> None:
        if self._lock is not None:
            try:
                self._lock.release()
            except (LockError, redis.RedisError):
                logger.info("beat: lock already gone at shutdown")
            self._lock = None
        super().close()
