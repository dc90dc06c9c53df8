"""Crash safety with real processes: kill -9 workers while queues drain, lose nothing,
duplicate nothing. Each test runs a private Redis server and its own Celery processes."""

import json
import random
import time

import pytest

from apps.abuse.models import BlacklistAction, BlacklistEntry
from apps.audit.events import monitor_event
from apps.audit.models import MonitorEvent
from apps.core import keys
from apps.core.queues import queue_depth
from apps.onboarding.models import OutSms
from tests.polling import wait_for
from tests.processes import Cluster, cluster

pytestmark = pytest.mark.slow

EVENTS = 50_000


def push(c: Cluster, key: str, items: list[str]) -> None:
    r = c.data()
    for start in range(0, len(items), 5000):
        r.lpush(key, *items[start : start + 5000])


def kill_workers_until_drained(c: Cluster, queue: str, *, timeout: float = 240) -> int:
    """kill -9 the worker at random moments while it drains ``queue``, restarting it each
    time, until the queue is empty; returns how many kills left a batch in flight."""
    r = c.data()
    worker = c.worker()
    mid_batch = kills = 0
    deadline = time.monotonic() + timeout
    while queue_depth(queue, client=r) > 0:
        assert time.monotonic() < deadline, f"{queue} never drained:\n{c.logs()}"
        # Eight kills, and more (up to 30) until one has landed inside a batch: a fast
        # worker finishes most batches before a late kill, which would prove nothing.
        if kills < 8 or (not mid_batch and kills < 30):
            # Wait until the worker is inside a batch, then at once or a random moment more.
            wait_for(
                lambda: r.zcard(keys.batch_index(queue)) or not queue_depth(queue, client=r),
                timeout=60,
                message="a claim",
            )
            time.sleep(random.choice((0.0, random.uniform(0, 0.05))))
            worker.kill9()
            kills += 1
            mid_batch += bool(r.zcard(keys.batch_index(queue)))
            worker = c.worker()
        time.sleep(0.05)
    return mid_batch


def test_killing_workers_while_monitor_events_drain_loses_and_duplicates_nothing(database_url, settings):
    events = [
        monitor_event(status="invalid", mobile=f"98{n:08d}", reason="header_hash") for n in range(EVENTS)
    ]
    expected = {json.loads(e)["event_id"] for e in events}

    with cluster(database_url, DRAIN_BATCH_SIZE="500", MONITOR_FLUSH_INTERVAL="0.2") as c:
        push(c, keys.sms_monitor_queue(), events)
        c.beat()
        kills = kill_workers_until_drained(c, keys.sms_monitor_queue())
        assert c.data().llen(keys.dead_letter(keys.sms_monitor_queue())) == 0

    stored = list(MonitorEvent.objects.values_list("event_id", flat=True))
    assert kills >= 1
    assert len(stored) == EVENTS
    assert set(stored) == expected


def test_killing_workers_while_blacklist_actions_drain_loses_and_duplicates_nothing(database_url):
    from apps.abuse.services import _action

    count = 20_000
    actions = [
        _action("add", f"97{n:08d}", country_code="91", source="test", reason="", actor="")
        for n in range(count)
    ]

    with cluster(database_url, DRAIN_BATCH_SIZE="250", BLACKLIST_FLUSH_INTERVAL="0.2") as c:
        push(c, keys.blacklist_queue(), actions)
        c.beat()
        kills = kill_workers_until_drained(c, keys.blacklist_queue())
        assert c.data().llen(keys.dead_letter(keys.blacklist_queue())) == 0

    assert kills >= 1
    assert BlacklistAction.objects.count() == count
    assert BlacklistAction.objects.values("event_id").distinct().count() == count
    assert BlacklistEntry.objects.count() == count


def test_every_acknowledged_sms_gets_exactly_one_verdict_through_worker_kills(database_url, settings, api):
    from tests.helpers import client_and_gateway, send_native

    # Enough SMS, in small batches, that draining them takes seconds: kills must be able
    # to land inside a batch, not only after the queue has emptied.
    numbers = [f"96{n:08d}" for n in range(300)]
    strangers = [f"95{n:08d}" for n in range(1700)]
    with cluster(database_url, INBOUND_BATCH_SIZE="5", INBOUND_SAFETY_INTERVAL="0.3") as c:
        c.use_in(settings)
        c.data().set(keys.redis_ready(), time.time())
        creds, token = client_and_gateway("kill-test")
        bodies = [api.get(f"/onboard/register/{n}", **creds.auth).json()["sms_body"] for n in numbers]
        # Correct SMS and wrong ones: both kinds of verdict must come out exactly once.
        deliveries = [*zip(numbers, bodies, strict=True), *((n, "ONBOARD:" + "0" * 64) for n in strangers)]
        sent = []
        for number, body in deliveries:
            reply = send_native(api, token, number, body)
            assert reply.status_code == 202
            sent.append(reply.json()["uuid"])
        c.beat()
        assert kill_workers_until_drained(c, keys.sms_inbound_queue()) >= 1
        verdicts = wait_for(
            lambda: _all_verdicts(c, sent),
            timeout=60,
            message=lambda: "a verdict for every SMS:\n" + c.logs(),
        )
        wait_for(
            lambda: queue_depth(keys.sms_monitor_queue(), client=c.data()) == 0,
            timeout=60,
            message="monitor drain",
        )
        wait_for(
            lambda: queue_depth(keys.out_sms_queue(), client=c.data()) == 0,
            timeout=60,
            message="out_sms drain",
        )
        for queue in (keys.sms_inbound_queue(), keys.sms_monitor_queue(), keys.out_sms_queue()):
            assert c.data().llen(keys.dead_letter(queue)) == 0, queue

    assert sorted(v["status"] for v in verdicts.values()).count("valid") == len(numbers)
    judged = MonitorEvent.objects.filter(sms_uuid__in=sent)
    assert judged.count() == len(sent)  # one event per SMS: none lost, none twice
    assert judged.values("sms_uuid").distinct().count() == len(sent)
    assert OutSms.objects.count() == len(numbers)


def _all_verdicts(c: Cluster, uuids: list[str]) -> dict | None:
    r = c.data()
    values = r.mget([keys.sms_verdict(u) for u in uuids])
    if any(v is None for v in values):
        return None
    return {u: json.loads(str(v)) for u, v in zip(uuids, values, strict=True)}
