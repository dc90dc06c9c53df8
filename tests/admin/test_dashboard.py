import json
import re
import time
import uuid
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.template import Template
from django.utils import timezone

from apps.clients.models import CallbackDelivery
from apps.core import keys
from apps.core.redis import get_redis
from apps.operations import charts, dashboard
from tests.factories import (
    BlacklistActionFactory,
    CallbackDeliveryFactory,
    ClientFactory,
    MonitorEventFactory,
)

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
    MonitorEventFactory.create(occurred_at=timezone.now() - age, status=status, mobile="9000000001")


def blacklist_action(action: str, age: timedelta) -> None:
    BlacklistActionFactory.create(action=action, mobile="9000000003", occurred_at=timezone.now() - age)


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
    MonitorEventFactory.create(status="onboard_requested", mobile="9000000001")

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


# --- callbacks, dead letters, chart, refresh, panels ------------------------------------------
def delivery(client, *, status: str = "pending", attempts: int = 0, age: timedelta = timedelta(0)):
    row = CallbackDeliveryFactory.create(client=client, status=status, attempts=attempts)
    CallbackDelivery.objects.filter(id=row.id).update(created_at=timezone.now() - age)
    return row


def test_the_callbacks_panel_counts_pending_retrying_failed_and_the_celery_queue(admin_client, settings):
    client = ClientFactory.create(name="Panel client")
    delivery(client, age=timedelta(minutes=3))
    delivery(client, attempts=2, age=timedelta(hours=2))
    delivery(client, status="failed", attempts=3)
    delivery(client, status="delivered", attempts=1)
    # The broker role on the per-test data DB, so the session's workers never see these.
    settings.CELERY_BROKER_URL = settings.REDIS_URL
    get_redis("broker").lpush("callbacks", "m1", "m2")

    response = admin_client.get(URL)

    callbacks = response.context["dashboard"].callbacks
    assert (callbacks.pending, callbacks.retrying, callbacks.failed, callbacks.celery_queue) == (2, 1, 1, 2)
    assert timezone.now() - callbacks.oldest_pending_at >= timedelta(hours=2)
    panel = section(response, "dash-callbacks")
    assert "Callbacks to client apps" in panel
    assert "2\xa0hours ago" in panel
    assert "/admin/clients/callbackdelivery/?status__exact=failed" in panel
    assert response.context["dashboard"].celery_queues == {"celery": 0, "callbacks": 2, "housekeeping": 0}


def test_dead_letters_are_counted_per_queue_and_link_to_their_list(admin_client):
    poisoned = json.dumps({"event_id": "e-poison", "status": "valid", "created_at": "not a time"})
    get_redis().lpush(keys.dead_letter(keys.sms_monitor_queue()), poisoned, "not json at all")

    response = admin_client.get(URL)
    page = admin_client.get("/admin/dead-letters/monitor/")
    overview = admin_client.get("/admin/dead-letters/")

    monitor = next(q for q in response.context["dashboard"].queues if q.name == "monitor")
    assert monitor.dead == 2
    assert 'href="/admin/dead-letters/monitor/"' in section(response, "dash-queues")
    assert page.status_code == 200
    items = page.context["page"].items
    assert [i.position for i in items] == [0, 1]
    assert items[0].raw == "not json at all" and items[1].summary["event_id"] == "e-poison"
    text = page.content.decode()
    assert "2 items in <code>sms_monitor_queue:dead</code>" in text
    assert "&quot;event_id&quot;: &quot;e-poison&quot;" in text  # the whole item, pretty-printed
    counts = overview.context["counts"]
    assert counts["monitor"] == 2 and set(counts.values()) == {0, 2}  # every other queue: none
    assert 'href="/admin/dead-letters/monitor/"' in overview.content.decode()


def test_dead_letters_are_paged_and_unknown_queues_are_404(admin_client):
    get_redis().lpush(keys.dead_letter(keys.blacklist_queue()), *[json.dumps({"n": i}) for i in range(60)])

    second = admin_client.get("/admin/dead-letters/blacklist/?page=2").context["page"]

    assert (second.total, second.page, second.pages, len(second.items)) == (60, 2, 2, 10)
    assert second.items[0].position == 50 and second.items[0].summary == {}
    assert admin_client.get("/admin/dead-letters/nope/").status_code == 404


def test_the_dead_letter_pages_are_for_staff_only(client):
    for path in ("/admin/dead-letters/", "/admin/dead-letters/monitor/"):
        response = client.get(path)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_verdicts_are_an_svg_chart_with_a_valid_and_an_invalid_bar_per_hour(admin_client):
    verdict("valid", this_hour(0.5))
    verdict("valid", this_hour(0.25))
    verdict("invalid", timedelta(hours=2))

    response = admin_client.get(URL)

    chart = section(response, "dash-verdicts")
    assert chart.count("<svg") == 1
    assert chart.count('class="dash-bar-valid"') == 24
    assert chart.count('class="dash-bar-invalid"') == 24
    assert "verdicts per hour" in chart and f"hour ({timezone.get_current_timezone_name()})" in chart
    assert len(re.findall(r">\d\d:00</text>", chart)) == 8  # an hour label every 3 hours
    assert f"{timezone.localtime():%a %H}:00: 2 valid</title>" in chart
    assert "<table" not in chart  # no more 24 rows of mostly zeros


def test_the_chart_scales_its_count_axis_to_a_round_ceiling():
    assert [charts._nice_ceiling(n) for n in (0, 1, 2, 3, 7, 10, 11, 75, 101, 4000)] == [
        1, 1, 2, 5, 10, 10, 20, 100, 200, 5000,
    ]  # fmt: skip


def test_the_dashboard_refreshes_itself_every_10_s_until_paused(admin_client):
    live = admin_client.get(URL).content.decode()
    paused = admin_client.get(URL + "?refresh=off").content.decode()

    assert '<meta http-equiv="refresh" content="10">' in live
    assert 'href="?refresh=off">Pause</a>' in live
    assert 'http-equiv="refresh"' not in paused
    assert f'href="{URL}">Resume</a>' in paused


def test_the_workers_row_says_starting_before_the_first_heartbeat(admin_client):
    get_redis().set(keys.heartbeat_started(), time.time())

    response = admin_client.get(URL)

    assert response.context["dashboard"].workers == "starting"
    assert "starting: no heartbeat yet" in section(response, "dash-queues")


def test_a_feature_adds_its_own_panel_through_the_registry(admin_client):
    template = Template('<p id="blocked">{{ panel.context.prefixes }} blocked</p>')

    def blocked_prefixes() -> dashboard.Panel:
        return dashboard.Panel(title="Blocked prefixes", template=template, context={"prefixes": 3})

    dashboard.dashboard_panel_register(blocked_prefixes)
    try:
        page = admin_client.get(URL).content.decode()
    finally:
        dashboard.dashboard_panel_unregister(blocked_prefixes)

    assert "<h2>Blocked prefixes</h2>" in page and '<p id="blocked">3 blocked</p>' in page
    assert "Blocked prefixes" not in admin_client.get(URL).content.decode()


# --- fits a 1280 px screen (an estimate from the HTML, as tests/admin/test_list_widths.py does) ----
SCREEN, NAV_SIDEBAR, CONTENT_PADDING, SCROLLBAR, GAP = 1280, 275 + 23, 2 * 40, 15, 20
COLUMN = (SCREEN - NAV_SIDEBAR - CONTENT_PADDING - SCROLLBAR - GAP) / 2  # two grid columns
PX_PER_CHAR, CELL_PADDING = 7.0, 2 * 10


class _Tables(HTMLParser):
    """Per table in the dashboard grid, per column, the widest word that cannot wrap."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict[int, float]] = []
        self._column = -1
        self._nowrap = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append({})
        elif tag == "tr":
            self._column = -1
        elif tag in {"td", "th"}:
            self._column += 1
        elif tag == "code":
            self._nowrap += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "code":
            self._nowrap -= 1

    def handle_data(self, data: str) -> None:
        if not self.tables or self._column < 0:
            return
        words = [data.strip()] if self._nowrap else data.split()
        widest = max((len(w) * PX_PER_CHAR for w in words), default=0)
        table = self.tables[-1]
        table[self._column] = max(table.get(self._column, 0), widest)


def test_the_dashboard_tables_fit_beside_each_other_on_a_1280_px_screen(admin_client, settings):
    seed_redis()
    client = ClientFactory.create(name="Width client")
    delivery(client, status="failed", attempts=8, age=timedelta(days=3))
    settings.CELERY_BROKER_URL = settings.REDIS_URL

    page = admin_client.get(URL).content.decode()
    parser = _Tables()
    parser.feed(page[page.index('<div class="dash-grid">') :])  # not the admin's own sidebar

    # queues, Celery queues, callbacks, blacklist, Redis, then the tables of the panels
    # features register (notifications, ...): each must fit a column too
    assert len(parser.tables) >= 5
    for table in parser.tables:
        needed = sum(width + CELL_PADDING for width in table.values())
        assert needed <= COLUMN, f"a table needs {needed:.0f} px, a column has {COLUMN:.0f}: {table}"
    assert "minmax(400px, 1fr)" in admin_client.get(URL).content.decode()
    assert 2 * 400 + GAP <= SCREEN - NAV_SIDEBAR - CONTENT_PADDING - SCROLLBAR  # two columns, not one


def section(response, element_id: str) -> str:
    """The HTML of the dashboard module with this id."""
    page = response.content.decode()
    start = page.index(f'id="{element_id}"')
    end = page.find('<div class="module', start)
    return page[start : end if end != -1 else len(page)]
