"""Reliable batches out of a Redis LIST: claim atomically, ack only when done.

A consumer holds the queue's lock (``apps.core.locks``) while it works, so a batch
still in the in-flight index when a consumer starts belongs to one that died: it is
handed out again before any new batch. Together with idempotent sinks (unique ids,
``ON CONFLICT DO NOTHING``) this gives exactly-once results from at-least-once work.
"""

import time
import uuid
from dataclasses import dataclass

from redis.client import Pipeline

from . import keys
from .redis import get_redis, run_script


@dataclass(frozen=True)
class Batch:
    queue: str
    id: str
    items: list[str]  # oldest first

    @property
    def items_key(self) -> str:
        return keys.batch_items(self.queue, self.id)


def batch_claim(*, queue: str, size: int) -> Batch | None:
    """The oldest in-flight batch of ``queue`` if one was left behind, else a new one."""
    return _batch_reclaim(queue=queue) or _batch_claim_new(queue=queue, size=size)


def _batch_reclaim(*, queue: str) -> Batch | None:
    r = get_redis()
    for raw_id in r.zrange(keys.batch_index(queue), 0, 0):
        batch_id = str(raw_id)
        items = r.lrange(keys.batch_items(queue, batch_id), 0, -1)
        if items:
            return Batch(queue=queue, id=batch_id, items=[str(item) for item in items])
        r.zrem(keys.batch_index(queue), batch_id)
    return None


def _batch_claim_new(*, queue: str, size: int) -> Batch | None:
    batch_id = uuid.uuid4().hex
    items = run_script(
        "core/lua/batch_claim.lua",
        keys=[queue, keys.batch_index(queue), keys.batch_items(queue, batch_id)],
        args=[size, batch_id, time.time()],
    )
    if not items:
        return None
    return Batch(queue=queue, id=batch_id, items=list(reversed(items)))


def batch_ack(batch: Batch, *, pipe: Pipeline | None = None) -> None:
    """Forget ``batch``; pass ``pipe`` to make the ack atomic with the batch's effects."""
    target = pipe if pipe is not None else get_redis().pipeline(transaction=True)
    target.delete(batch.items_key)
    target.zrem(keys.batch_index(batch.queue), batch.id)
    if pipe is None:
        target.execute()


def queue_depth(queue: str) -> int:
    """Items waiting plus items in flight."""
    r = get_redis()
    with r.pipeline(transaction=False) as pipe:
        pipe.llen(queue)
        pipe.zrange(keys.batch_index(queue), 0, -1)
        waiting, batch_ids = pipe.execute()
    in_flight = sum(r.llen(keys.batch_items(queue, b)) for b in batch_ids) if batch_ids else 0
    return int(waiting) + in_flight
