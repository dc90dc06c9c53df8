"""A queue whose items wake a worker (``apps.core.queues.Wake``): the mark a request sets
to wake one, held while a worker drains, and the short wait that gathers a steady flow
into batches. On the suite's real Redis, in-process; the worker test is in
tests/onboarding/test_validation_wakes.py."""

import threading
import time

from apps.core.locks import lock_hold
from apps.core.queues import WAKE_HOLD_MS, WAKE_IDLE_LINGERS, Batch, Wake, batch_ack, queue_drain_woken
from apps.core.redis import get_redis

QUEUE = "test_woken_queue"
LOCK = "test_woken"
MARK = "test_woken_kick"


def _drain(sink, *, wake: Wake, batch_size: int = 100) -> int:
    return queue_drain_woken(
        queue=QUEUE, lock=LOCK, sink=sink, batch_size=batch_size, max_batches=1000, wake=wake
    )


class Recorder:
    """A sink that acknowledges each batch and keeps its items, and what it saw of the mark."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.mark_ttls: list[int] = []

    def __call__(self, batch: Batch) -> int:
        self.mark_ttls.append(int(get_redis().pttl(MARK)))
        self.batches.append(batch.items)
        batch_ack(batch)
        return len(batch.items)

    @property
    def items(self) -> list[str]:
        return [item for batch in self.batches for item in batch]


def test_a_draining_worker_holds_the_mark_so_requests_meanwhile_wake_nobody():
    r = get_redis()
    r.lpush(QUEUE, *(f"i{n}" for n in range(5)))
    sink = Recorder()

    assert _drain(sink, wake=Wake(MARK), batch_size=2) == 5

    # The second and third batches ran with the mark set by the drain itself (not by a
    # request: none set it here), long enough to outlast a batch.
    assert sink.mark_ttls[0] < 0
    assert all(WAKE_HOLD_MS / 2 < ttl <= WAKE_HOLD_MS for ttl in sink.mark_ttls[1:])
    # Done: the mark is cleared, so the next item wakes a worker of its own.
    assert not r.exists(MARK)
    assert sink.items == [f"i{n}" for n in range(5)]


def test_a_run_that_finds_the_lock_taken_leaves_the_mark_to_the_worker_holding_it():
    r = get_redis()
    r.lpush(QUEUE, "early")
    r.set(MARK, "1", px=60_000)  # a worker is draining and holds the mark
    sink = Recorder()
    with lock_hold(LOCK) as held:
        assert held is not None

        # A flood of requests meanwhile: each one that found the mark unset would queue a
        # task, so the runs those tasks make must not clear it.
        for _ in range(3):
            assert _drain(sink, wake=Wake(MARK)) == 0
            assert r.exists(MARK)

    assert sink.batches == []
    # The holder's own run, once it is done, takes what came and clears the mark.
    assert _drain(sink, wake=Wake(MARK)) == 1
    assert sink.items == ["early"] and not r.exists(MARK)


def test_an_item_queued_while_the_mark_was_set_is_taken_by_the_look_after_clearing_it():
    r = get_redis()
    sink = Recorder()
    late: list[str] = []

    def sink_that_sees_one_more_arrive(batch: Batch) -> int:
        handled = sink(batch)
        if not late:  # it lands after this drain's last claim, while the mark is still set
            late.append("late")
            r.lpush(QUEUE, "late")
        return handled

    r.lpush(QUEUE, "first")
    assert _drain(sink_that_sees_one_more_arrive, wake=Wake(MARK)) == 2
    assert sink.items == ["first", "late"]
    assert not r.exists(MARK)


def test_lingering_gathers_a_steady_flow_into_a_few_large_batches():
    r = get_redis()
    items = [f"i{n}" for n in range(150)]

    def flow() -> None:
        for item in items:
            r.lpush(QUEUE, item)
            time.sleep(0.002)

    def drained_with(linger: float) -> Recorder:
        sink = Recorder()
        feeder = threading.Thread(target=flow)
        r.lpush(QUEUE, "start")
        feeder.start()
        try:
            handled = 0
            while handled < len(items) + 1:  # a run can end in a pause of the flow: run again
                handled += _drain(sink, wake=Wake(MARK, linger=linger, budget=60))
        finally:
            feeder.join()
        assert sorted(sink.items) == sorted([*items, "start"])  # every item once, none lost
        return sink

    lingering = drained_with(0.05)
    # About 25 items arrive in each 50 ms wait: a handful of batches, not one per item or two.
    assert len(lingering.batches) <= len(items) / 5
    assert max(len(b) for b in lingering.batches) >= 10


def test_a_run_waits_after_short_batches_stays_awake_through_a_pause_and_ends_idle(monkeypatch):
    r = get_redis()
    waits: list[float] = []
    real_sleep = time.sleep

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr("apps.core.queues.time.sleep", sleep)
    sink = Recorder()

    r.lpush(QUEUE, "a")
    assert _drain(sink, wake=Wake(MARK, linger=0.01, budget=60)) == 1
    # A wait after the short batch, then a look every linger until a pause of
    # WAKE_IDLE_LINGERS lingers has passed with nothing: then the mark is cleared.
    assert WAKE_IDLE_LINGERS - 2 <= len(waits) <= WAKE_IDLE_LINGERS + 2
    assert set(waits) == {0.01}
    assert not r.exists(MARK)

    waits.clear()
    r.lpush(QUEUE, *(f"full{n}" for n in range(4)))
    assert _drain(sink, wake=Wake(MARK, linger=0.01, budget=0), batch_size=2) == 4
    assert waits == []  # the budget spent: no waiting at all in this run

    assert _drain(sink, wake=Wake(MARK, linger=0.01, budget=60)) == 0
    assert waits == []  # a run that found nothing does not linger (beat's safety-net run)
    assert _drain(sink, wake=Wake(MARK)) == 0  # linger 0 (the notifications): never waits
    assert waits == []


def test_an_sms_after_a_pause_shorter_than_the_idle_limit_wakes_no_new_task():
    r = get_redis()
    sink = Recorder()
    later = threading.Timer(0.05, lambda: r.lpush(QUEUE, "after the pause"))
    r.lpush(QUEUE, "before")
    later.start()
    try:
        # Lingers of 20 ms, idle after 200 ms: the run is still awake when the item lands.
        assert _drain(sink, wake=Wake(MARK, linger=0.02, budget=60)) == 2
    finally:
        later.join()
    assert sink.items == ["before", "after the pause"]
