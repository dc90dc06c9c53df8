"""Drains and sweeps in-process, on the session's real Redis and PostgreSQL."""

import json
import random
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.abuse.models import BlacklistAction, BlacklistEntry
from apps.abuse.services import abuse_sweep, blacklist_add, blacklist_flush, blacklist_remove
from apps.audit.events import monitor_event
from apps.audit.models import MonitorEvent
from apps.audit.services import audit_purge, monitor_flush
from apps.core import keys
from apps.core.phone import mobile_parse
from apps.core.queues import batch_claim, queue_depth
from apps.core.redis import get_redis
from apps.core.system_settings import system_setting_set
from tests.factories import BlacklistEntryFactory, OutSmsFactory

pytestmark = pytest.mark.django_db


def test_monitor_flush_stores_each_event_once_with_its_fields():
    r = get_redis()
    events = [
        monitor_event(
            status="invalid", mobile="9876543210", reason="header_hash", check_results={"mobile": 1}
        )
    ]
    events += [monitor_event(status="valid", mobile=f"98765432{n:02d}", client_ids=["c1"]) for n in range(50)]
    r.lpush(keys.sms_monitor_queue(), *events)

    assert monitor_flush(batch_size=20) == 51

    assert MonitorEvent.objects.count() == 51
    stored = MonitorEvent.objects.get(event_id=json.loads(events[0])["event_id"])
    assert (stored.status, stored.reason, stored.mobile) == ("invalid", "header_hash", "9876543210")
    assert stored.check_results == {"mobile": 1}
    assert stored.sms_uuid == ""
    assert queue_depth(keys.sms_monitor_queue()) == 0


def test_a_batch_left_in_flight_is_replayed_without_duplicates():
    r = get_redis()
    events = [monitor_event(status="valid", mobile=f"98765432{n:02d}") for n in range(30)]
    r.lpush(keys.sms_monitor_queue(), *events)
    monitor_flush(batch_size=10)
    # A worker died after inserting a batch but before acking it: the same items are in flight again.
    r.lpush(keys.sms_monitor_queue(), *events[:10])
    batch = batch_claim(queue=keys.sms_monitor_queue(), size=10)
    assert batch is not None

    monitor_flush()

    assert MonitorEvent.objects.count() == 30
    assert queue_depth(keys.sms_monitor_queue()) == 0
    assert r.llen(keys.dead_letter(keys.sms_monitor_queue())) == 0  # replayed, not set aside


def test_a_replayed_batch_mixing_stored_and_new_events_stores_the_new_ones_once():
    r = get_redis()
    events = [monitor_event(status="valid", mobile=f"98765432{n:02d}") for n in range(20)]
    r.lpush(keys.sms_monitor_queue(), *events[:10])
    monitor_flush()
    r.lpush(keys.sms_monitor_queue(), *events)

    assert monitor_flush() == 20

    assert MonitorEvent.objects.count() == 20
    assert r.llen(keys.dead_letter(keys.sms_monitor_queue())) == 0


def test_a_poisoned_event_goes_to_the_dead_letter_list_and_the_rest_are_stored():
    r = get_redis()
    good = [monitor_event(status="valid", mobile=f"98765432{n:02d}") for n in range(5)]
    r.lpush(keys.sms_monitor_queue(), good[0], "{not json", *good[1:])

    monitor_flush()

    assert MonitorEvent.objects.count() == 5
    assert r.lrange(keys.dead_letter(keys.sms_monitor_queue()), 0, -1) == ["{not json"]
    assert queue_depth(keys.sms_monitor_queue()) == 0


def test_blacklist_flush_records_history_and_follows_the_last_action():
    blacklist_add(mobile=mobile_parse("9876543210"), source="admin", reason="fraud", actor="ops")
    blacklist_add(mobile=mobile_parse("9876543211"), source="admin")
    blacklist_remove(mobile=mobile_parse("9876543211"), source="admin")

    assert blacklist_flush() == 3

    assert BlacklistAction.objects.count() == 3
    assert list(BlacklistEntry.objects.values_list("mobile", "source", "reason", "actor")) == [
        ("9876543210", "admin", "fraud", "ops")
    ]


def test_blacklisting_twice_records_one_action():
    assert blacklist_add(mobile=mobile_parse("9876543210"), source="admin") is True
    assert blacklist_add(mobile=mobile_parse("9876543210"), source="admin") is False

    blacklist_flush()

    assert BlacklistAction.objects.count() == 1


def test_audit_purge_deletes_only_rows_past_retention():
    r = get_redis()
    r.lpush(keys.sms_monitor_queue(), *[monitor_event(status="valid", mobile=f"9{n:09d}") for n in range(6)])
    monitor_flush()
    MonitorEvent.objects.filter(id__in=list(MonitorEvent.objects.values_list("id", flat=True)[:4])).update(
        occurred_at=timezone.now() - timedelta(days=91)
    )

    assert audit_purge(older_than_days=90, chunk=3) == 4

    assert MonitorEvent.objects.count() == 2


def test_sweep_over_100000_counters_blacklists_exactly_those_at_or_over_the_threshold():
    system_setting_set(key="abuse_threshold", value=10)
    r = get_redis()
    rng = random.Random(7)
    counts = {f"9{n:09d}": rng.randint(1, 12) for n in range(100_000)}
    with r.pipeline(transaction=False) as pipe:
        for mobile, count in counts.items():
            pipe.set(keys.abuse_counter(mobile), count, ex=86400)
        pipe.execute()
    offenders = {m for m, c in counts.items() if c >= 10}
    some_offender = next(iter(offenders))
    r.set(keys.onboard_hash(some_offender), "pending")

    added = abuse_sweep()

    assert added == len(offenders)
    assert r.smembers(keys.blacklist_mobiles()) == offenders
    assert r.llen(keys.blacklist_queue()) == len(offenders)
    assert not r.exists(keys.onboard_hash(some_offender))
    assert abuse_sweep() == 0  # a second sweep finds them all listed already


def test_only_one_sweep_runs_at_a_time():
    from apps.core.locks import lock_hold

    with lock_hold("abuse_sweep"):
        assert abuse_sweep() == -1


def test_the_redis_repair_loads_both_sets_and_sets_the_ready_marker():
    from apps.core.repair import redis_repair

    OutSmsFactory.create(local_mobile="9876543210")
    BlacklistEntryFactory.create(mobile="9876543299")
    r = get_redis()
    r.flushdb()

    report = redis_repair()

    assert report is not None and (report.verified, report.blacklisted) == (1, 1)
    assert r.smembers(keys.out_sms_numbers()) == {"9876543210"}
    assert r.smembers(keys.blacklist_mobiles()) == {"9876543299"}
    assert float(str(r.get(keys.redis_ready()))) <= time.time()
    assert redis_repair() is None  # nothing to do while Redis is ready
