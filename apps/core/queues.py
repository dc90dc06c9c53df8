"""Reliable batches out of a Redis LIST: claim atomically, ack only when done.

A consumer holds the queue's lock (``apps.core.locks``) while it works, so a batch
still in the in-flight index when a consumer starts belongs to one that died: it is
handed out again before any new batch. Together with idempotent sinks (unique ids,
``ON CONFLICT DO NOTHING``) this gives exactly-once results from at-least-once work.
"""

import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import redis
from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError
from redis.client import Pipeline

from . import keys
from .locks import lock_hold, lock_taken
from .redis import get_redis, run_script

logger = logging.getLogger(__name__)

# Failures that say "not now" rather than "never": the batch stays in flight and the
# next run replays it. Anything else is treated as a poisoned item (see queue_drain).
# redis.RedisError covers a Redis that is away, hung, restarting or still "loading the
# dataset" after a restart (BusyLoadingError, named for the reader: it is the error a
# restart with AOF gives for a second or so), and the breaker's RedisUnavailable.
TRANSIENT_ERRORS = (
    OperationalError,
    InterfaceError,
    redis.BusyLoadingError,
    redis.RedisError,
    SoftTimeLimitExceeded,
)


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


def queue_depth(queue: str, *, client: redis.Redis | None = None) -> int:
    """Items waiting plus items in flight (on ``client``, default the data Redis)."""
    r = client or get_redis()
    with r.pipeline(transaction=False) as pipe:
        pipe.llen(queue)
        pipe.zrange(keys.batch_index(queue), 0, -1)
        waiting, batch_ids = pipe.execute()
    in_flight = sum(r.llen(keys.batch_items(queue, b)) for b in batch_ids) if batch_ids else 0
    return int(waiting) + in_flight


Sink = Callable[[Batch], int]


@dataclass(frozen=True)
class Wake:
    """How web requests wake the worker of a queue, and how that worker stays awake.

    A request that queues an item sets ``mark`` (SET NX, a short TTL) and queues the
    worker's task only when it set it. The draining worker holds the mark while it works,
    so requests meanwhile queue no task (each would only find the lock taken). With a
    ``linger``, after a batch that emptied the queue it waits that long for the next
    items to gather, and it stays awake through a pause of up to WAKE_IDLE_LINGERS
    lingers, for at most ``budget`` seconds a run: under a steady flow it claims a few
    dozen items a batch instead of the two or three that came in while it judged the
    last, pays a batch's fixed cost (the claim, the state read, the MULTI/EXEC, the lock
    renewal) that much less often, and is not woken again for every short pause.
    """

    mark: str
    linger: float = 0.0
    budget: float = 2.0


WAKE_HOLD_MS = 1000  # the mark outlives a draining worker's last batch by this much (a killed one)
WAKE_IDLE_LINGERS = 10  # a run that judged something stays awake through a pause this many lingers long
WAKE_RECHECKS = 3  # drains per run while items keep arriving between the drain and clearing the mark


def queue_drain_woken(
    *,
    queue: str,
    lock: str,
    sink: Sink,
    batch_size: int,
    max_batches: int,
    wake: Wake,
    before: Callable[[], object] | None = None,
) -> int:
    """``queue_drain`` for a queue whose items wake a worker (``Wake``); returns items handled.

    When the queue is empty (and a lingering run has seen a pause of WAKE_IDLE_LINGERS
    lingers, or spent its budget) the run clears the mark and looks once more, so an
    item queued while the mark was still set (it woke nobody) is taken by that look, and
    the next one wakes a worker itself. A run that finds the lock taken leaves the mark
    alone: the worker holding the lock does that clearing and looking when it is done,
    and clearing it here would let every request meanwhile queue a task of its own.
    ``before`` runs before each drain (the notifications promote their due retries).
    """
    handled = rechecks = 0
    linger_until = time.monotonic() + wake.budget if wake.linger else 0.0
    last_fed: float | None = None  # only a run that found work lingers through a pause
    while True:
        if before is not None:
            before()
        fed = queue_drain(
            queue=queue,
            lock=lock,
            sink=sink,
            batch_size=batch_size,
            max_batches=max_batches,
            wake=wake,
            linger_until=linger_until,
        )
        handled += fed
        if not fed and lock_taken(lock):
            break
        now = time.monotonic()
        last_fed = now if fed else last_fed
        if last_fed is not None and now < linger_until and now - last_fed < wake.linger * WAKE_IDLE_LINGERS:
            get_redis().set(wake.mark, "1", px=WAKE_HOLD_MS)  # a pause in the flow: still awake
            time.sleep(wake.linger)
            continue
        get_redis().delete(wake.mark)
        rechecks += 1
        if rechecks >= WAKE_RECHECKS or not queue_depth(queue):
            break
    return handled


def queue_drain(
    *,
    queue: str,
    lock: str,
    sink: Sink,
    batch_size: int,
    max_batches: int = 100,
    prefetch: bool = False,
    wake: Wake | None = None,
    linger_until: float = 0.0,
) -> int:
    """Feed ``queue`` to ``sink`` batch by batch under ``lock``; returns items handled.

    ``sink`` must be idempotent and acknowledge the batch (``batch_ack``), ideally
    atomically with its effects. A batch the sink cannot take for a non-transient
    reason is retried item by item; an item that still fails goes to the queue's
    dead-letter list for an operator, so one bad item never blocks the queue.

    ``prefetch``: claim the next batch in a thread while ``sink`` takes this one, for a
    sink that mostly waits for PostgreSQL (the monitor drain spent a tenth of its time
    claiming). The next batch is then in flight before this one is acknowledged; after
    a crash both are handed out again, oldest first, like any batch left behind.

    ``wake``: the queue's wake-up mark is held while draining, and until the monotonic
    time ``linger_until`` the drain waits ``wake.linger`` after each short batch
    (``Wake``; ``queue_drain_woken`` runs it so).
    """
    handled = 0
    with lock_hold(lock) as held:
        if held is None:
            return 0
        with _Claims(queue, batch_size, prefetch=prefetch) as claims:
            for n in range(max_batches):
                batch = claims.next(more=n + 1 < max_batches)
                if batch is None:
                    break
                fed = _feed(batch, sink)
                handled += fed
                _drained(queue, fed, wake)
                held.extend(held.timeout or 15, replace_ttl=True)
                if wake and wake.linger and len(batch.items) < batch_size and time.monotonic() < linger_until:
                    time.sleep(wake.linger)
    return handled


def _drained(queue: str, fed: int, wake: Wake | None) -> None:
    with get_redis().pipeline(transaction=False) as pipe:
        pipe.hincrby(keys.metrics_drained(), queue, fed)
        if wake is not None:
            pipe.set(wake.mark, "1", px=WAKE_HOLD_MS)
        pipe.execute()


class _Claims:
    """The batches queue_drain feeds: those left behind first (``batch_claim``), then new
    ones, each claimed in a thread while the one before is fed when ``prefetch``."""

    def __init__(self, queue: str, size: int, *, prefetch: bool) -> None:
        self._queue, self._size = queue, size
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="batch-claim") if prefetch else None
        self._next: Future[Batch | None] | None = None

    def __enter__(self) -> "_Claims":
        return self

    def __exit__(self, *exc: object) -> None:
        # A claim still running finishes; its batch stays in flight for the next drain.
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def next(self, *, more: bool) -> Batch | None:
        if self._next is not None:
            batch, self._next = self._next.result(), None
        elif (batch := _batch_reclaim(queue=self._queue)) is not None:
            # Left behind, fed one at a time: until it is acknowledged it would be handed
            # out again, so nothing is claimed beside it.
            return batch
        else:
            batch = _batch_claim_new(queue=self._queue, size=self._size)
        if batch is not None and more and self._pool is not None:
            self._next = self._pool.submit(_batch_claim_new, queue=self._queue, size=self._size)
        return batch


def _feed(batch: Batch, sink: Sink) -> int:
    try:
        return sink(batch)
    except TRANSIENT_ERRORS:
        raise
    except Exception:
        logger.exception(
            "batch %s of %s failed; retrying its %d items one by one", batch.id, batch.queue, len(batch.items)
        )
    handled = 0
    for index, item in enumerate(batch.items):
        try:
            handled += sink(Batch(queue=batch.queue, id=f"{batch.id}.{index}", items=[item]))
        except TRANSIENT_ERRORS:
            raise
        except Exception:
            logger.exception("dead-lettering an item of %s", batch.queue)
            get_redis().lpush(keys.dead_letter(batch.queue), item)
    batch_ack(batch)
    return handled
