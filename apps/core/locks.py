"""Short Redis locks with a token and safe release (redis-py's Lock: Lua release).

Used so only one consumer drains a queue or sweeps at a time. The timeout is short and
renewed between batches, so a dead holder blocks the work for seconds, not minutes.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from redis.exceptions import LockError
from redis.lock import Lock

from . import keys
from .redis import get_redis

logger = logging.getLogger(__name__)

DEFAULT_LOCK_SECONDS = 15


@contextmanager
def lock_hold(name: str, *, timeout: float = DEFAULT_LOCK_SECONDS) -> Iterator[Lock | None]:
    """Yield the held lock, or None when another process holds it (never waits)."""
    lock = get_redis().lock(keys.lock(name), timeout=timeout, blocking=False)
    if not lock.acquire():
        yield None
        return
    try:
        yield lock
    finally:
        try:
            lock.release()
        except LockError:
            logger.warning("lock %s expired while held; the work is idempotent", name)


def lock_taken(name: str) -> bool:
    """Whether some process holds the lock ``name`` now."""
    return bool(get_redis().exists(keys.lock(name)))
