import logging
import time

from celery import shared_task

from . import keys
from .redis import get_redis

logger = logging.getLogger(__name__)

HEARTBEAT_TTL = 300


@shared_task(expires=10, soft_time_limit=10, time_limit=15)
def heartbeat_task() -> float:
    """Queued by beat, run by the housekeeping pool: its timestamp proves both are alive."""
    now = time.time()
    with get_redis().pipeline(transaction=False) as pipe:
        pipe.set(keys.heartbeat("worker"), now, ex=HEARTBEAT_TTL)
        pipe.incr(keys.heartbeat_runs())
        pipe.execute()
    logger.debug("heartbeat at %.3f", now)
    return now
