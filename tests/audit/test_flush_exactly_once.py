"""The monitor drain's own transaction (no caller's around it, as in a worker): a replayed
batch and a poisoned event mid-COPY, where the rows are made while COPY reads them."""

import pytest

from apps.audit.events import monitor_event
from apps.audit.models import MonitorEvent
from apps.audit.services import monitor_flush
from apps.core import bulk, keys
from apps.core.queues import batch_claim, queue_depth
from apps.core.redis import get_redis

# transaction=True: the drain runs outside any transaction, as a Celery worker runs it.
pytestmark = pytest.mark.django_db(transaction=True)


def events(count: int, first: int = 0) -> list[str]:
    return [monitor_event(status="valid", mobile=f"98{n:08d}") for n in range(first, first + count)]


def test_a_batch_replayed_after_a_crash_stores_only_its_new_events_once():
    r = get_redis()
    stored, new = events(600), events(600, first=600)
    r.lpush(keys.sms_monitor_queue(), *stored)
    assert monitor_flush() == 600
    # The worker died after its commit and before its ack: the same events come again,
    # behind a batch left in flight that holds some of them and some new ones.
    r.lpush(keys.sms_monitor_queue(), *stored[:300], *new[:300])
    assert batch_claim(queue=keys.sms_monitor_queue(), size=600) is not None
    r.lpush(keys.sms_monitor_queue(), *stored[300:], *new[300:])

    assert monitor_flush() == 1200

    assert MonitorEvent.objects.count() == MonitorEvent.objects.values("event_id").distinct().count() == 1200
    assert queue_depth(keys.sms_monitor_queue()) == 0
    assert r.llen(keys.dead_letter(keys.sms_monitor_queue())) == 0


def test_a_poisoned_event_deep_in_a_batch_is_set_aside_not_retried_forever():
    r = get_redis()
    good = events(2 * bulk.CHUNK_ROWS)
    poisoned = monitor_event(status="valid", mobile="9800000999").replace('"event_id"', '"event"')
    r.lpush(keys.sms_monitor_queue(), *good[: bulk.CHUNK_ROWS], poisoned, *good[bulk.CHUNK_ROWS :])

    assert monitor_flush() == len(good)

    assert MonitorEvent.objects.count() == len(good)
    assert r.lrange(keys.dead_letter(keys.sms_monitor_queue()), 0, -1) == [poisoned]
    assert queue_depth(keys.sms_monitor_queue()) == 0
