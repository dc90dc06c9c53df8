"""Read-only views of the bridge's queues and heartbeats, for operators and /health."""

import json
import time
from dataclasses import dataclass

from . import keys, registry
from .redis import get_redis

TIME_FIELDS = ("queued_at", "created_at", "verified_at")


@dataclass(frozen=True)
class QueueStats:
    name: str
    waiting: int
    in_flight: int
    dead: int
    lag_seconds: float  # age of the oldest event not yet handled; 0 when empty


def queues() -> dict[str, str]:
    """Short name -> Redis key of every queue the apps registered, in report order."""
    return {queue.name: queue.key() for queue in registry.drained_queues()}


def queue_stats() -> list[QueueStats]:
    r = get_redis()
    now = time.time()
    stats = []
    for name, queue in queues().items():
        with r.pipeline(transaction=False) as pipe:
            pipe.llen(queue)
            pipe.lindex(queue, -1)
            pipe.zrange(keys.batch_index(queue), 0, -1)
            pipe.llen(keys.dead_letter(queue))
            waiting, oldest, batch_ids, dead = pipe.execute()
        in_flight, oldest_in_flight = _in_flight(queue, batch_ids)
        ages = [now - t for t in (_timestamp(oldest), _timestamp(oldest_in_flight)) if t]
        stats.append(QueueStats(name, int(waiting), in_flight, int(dead), round(max(ages, default=0.0), 3)))
    return stats


def _in_flight(queue: str, batch_ids: list[str]) -> tuple[int, str | None]:
    if not batch_ids:
        return 0, None
    with get_redis().pipeline(transaction=False) as pipe:
        for batch_id in batch_ids:
            pipe.llen(keys.batch_items(queue, batch_id))
        pipe.lindex(keys.batch_items(queue, batch_ids[0]), 0)
        *lengths, first = pipe.execute()
    return sum(int(n) for n in lengths), first


def _timestamp(item: str | None) -> float | None:
    if not item:
        return None
    try:
        event = json.loads(item)
    except ValueError:
        return None
    return next((float(event[f]) for f in TIME_FIELDS if isinstance(event.get(f), int | float)), None)


def heartbeat_age() -> float | None:
    """Seconds since a worker last ran a beat-queued heartbeat; None if never."""
    beat = get_redis().get(keys.heartbeat("worker"))
    return None if beat is None else round(time.time() - float(str(beat)), 3)
