import time

from celery import shared_task

from . import keys
from .redis import get_redis

HEARTBEAT_TTL = 300


@shared_task(expires=10, soft_time_limit=10, time_limit=15)
def heartbeat_task() -> float:
    """Queued by beat, run by a worker: its timestamp proves both are alive."""
    now = time.time()
    with get_redis().pipeline(transaction=False) as pipe:
        pipe.set(keys.heartbeat("worker"), now, ex=HEARTBEAT_TTL)
        pipe.incr(keys.heartbeat_runs())
        pipe.execute()
    return now
