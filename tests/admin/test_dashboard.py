import json
import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.abuse.models import BlacklistAction
from apps.audit.models import MonitorEvent
from apps.core import dashboard, keys
from apps.core.redis import get_redis

pytestmark = pytest.mark.django_db

URL = "/admin/dashboard/"


def seed_redis() -> None:
    r = get_redis()
    stale = json.dumps({"event_id": "e1", "created_at": time.time() - 30, "status": "valid"})
    r.lpush(keys.sms_monitor_queue(), stale, stale)
    r.set(keys.heartbeat("worker"), time.time() - 2)
    r.sadd(keys.out_sms_numbers(), "9000000001", "9000000002")
    r.sadd(keys.blacklist_mobiles(), "9000000003")
    r.set(keys.onboard_hash("9000000004"), "abc")
    r.hset(keys.onboard_regs("9000000004"), "abc", "{}")
    r.set(keys.abuse_counter("9000000004"), 3)
    r.set(keys.abuse_counter("9000000005"), 1)
    r.set(keys.sms_dedupe(str(uuid.uuid4()), "m1"), "u1")
    r.set(keys.register_client_rate("client-1"), 5)
    r.set(keys.register_number_rate("9000000004"), 1)


def this_hour(fraction: float) -> timedelta:
    """An age that stays inside the current local hour, whatever minute the test runs at."""
    now = timezone.localtime()
    return (now - now.replace(minute=0, second=0, microsecond=0)) * fraction


def verdict(status: str, age: timedelta) -> None:
    MonitorEvent.objects.create(
        event_id=uuid.uuid4().hex, occurred_at=timezone.now() - age, status=status, mobile="9000000001"
    )


def blacklist_action(action: str, age: timedelta) -> None:
    BlacklistAction.objects.create(
        event_id=uuid.uuid4().hex,
        action=action,
        mobile="9000000003",
        source="admin",
        occurred_at=timezone.now() - age,
    )


def test_the_dashboard_shows_queues_lag_and_heartbeat(admin_client):
    seed_redis()

    response = admin_client.get(URL)

    assert response.status_code == 200
    board = response.context["dashboard"]
    monitor = next(q for q in board.queues if q.name == "monitor")
    assert monitor.waiting == 2
    assert monitor.lag_seconds >= 29
    assert 1 < board.heartbeat_age < 30
    assert not board.heartbeat_stale
    page = response.content.decode()
    assert "Queues and workers" in page
    assert "s ago" in page


def test_the_dashboard_counts_key_families_with_scan_and_the_sets(admin_client):
    seed_redis()

    stats = admin_client.get(URL).context["dashboard"].redis

    assert {f.pattern: f.count for f in stats.families} == {
        "onboard_hash:*": 1,
        "onboard_regs:*": 1,
        "abuse_counter:*": 2,
        "sms_dedupe:*": 1,
        "rate:*": 2,
    }
    assert stats.families_complete
    assert (stats.verified_numbers, stats.blacklisted_numbers) == (2, 1)
    assert stats.connected_clients >= 1
    assert stats.used_memory_human
    assert stats.hit_rate is None or 0 <= stats.hit_rate <= 1


def test_a_scan_cut_short_by_its_budget_reports_lower_bounds():
    with get_redis().pipeline(transaction=False) as pipe:
        for i in range(5000):
            pipe.set(keys.abuse_counter(f"9{i:09d}"), 1, ex=60)
        pipe.execute()

    families, complete = dashboard.key_family_counts(budget_seconds=0)

    counted = {f.pattern: f.count for f in families}["abuse_counter:*"]
    assert not complete
    assert 0 < counted < 5000
    assert {f.pattern: f.count for f in dashboard.key_family_counts()[0]}["abuse_counter:*"] == 5000


def test_the_dashboard_still_renders_when_redis_is_down(admin_client, settings):
    verdict("valid", this_hour(0.5))
    settings.REDIS_URL = "redis://127.0.0.1:1/15"  # nothing listens there

    response = admin_client.get(URL)

    assert response.status_code == 200
    assert "Redis is unreachable" in response.content.decode()
    assert response.context["dashboard"].verdicts[-1].valid == 1


def test_verdicts_are_counted_per_hour_for_the_last_day(admin_client):
    verdict("valid", this_hour(0.25))
    verdict("valid", this_hour(0.5))
    verdict("invalid", this_hour(0.75))
    verdict("invalid", timedelta(hours=3))
    verdict("valid", timedelta(hours=30))  # older than the window
    MonitorEvent.objects.create(
        event_id=uuid.uuid4().hex, occurred_at=timezone.now(), status="onboard_requested", mobile="9000000001"
    )

    board = admin_client.get(URL).context["dashboard"]

    assert len(board.verdicts) == 24
    assert (board.verdicts[-1].valid, board.verdicts[-1].invalid) == (2, 1)
    assert (board.verdicts[-4].valid, board.verdicts[-4].invalid) == (0, 1)
    assert sum(v.valid + v.invalid for v in board.verdicts) == 4
    assert board.verdict_peak == 3


def test_blacklist_growth_is_counted_per_day_for_two_weeks(admin_client):
    blacklist_action("add", timedelta(0))
    blacklist_action("add", timedelta(0))
    blacklist_action("remove", timedelta(0))
    blacklist_action("add", timedelta(days=2))
    blacklist_action("add", timedelta(days=20))  # older than the window

    board = admin_client.get(URL).context["dashboard"]

    assert len(board.blacklist) == 14
    assert board.blacklist[-1].day == timezone.localdate()
    assert (board.blacklist[-1].added, board.blacklist[-1].removed) == (2, 1)
    assert board.blacklist[-3].added == 1
    assert sum(b.added for b in board.blacklist) == 3


def test_the_admin_index_links_to_the_dashboard(admin_client):
    page = admin_client.get("/admin/").content.decode()

    assert f'href="{URL}"' in page


def test_hours_are_bucketed_in_the_current_time_zone_even_with_a_half_hour_offset():
    with timezone.override("Asia/Kolkata"):
        verdict("valid", this_hour(0.5))
        verdict("invalid", timedelta(hours=2))

        hours = dashboard.verdicts_per_hour()

    assert sum(h.valid + h.invalid for h in hours) == 2
    assert hours[-1].valid == 1
    assert hours[-1].hour.utcoffset() == timedelta(hours=5, minutes=30)
