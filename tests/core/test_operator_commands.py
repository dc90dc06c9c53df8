import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.abuse.models import BlacklistAction
from apps.abuse.services import blacklist_add
from apps.audit.events import monitor_event
from apps.audit.models import MonitorEvent
from apps.core import keys
from apps.core.locks import lock_hold
from apps.core.phone import mobile_parse
from apps.core.redis import get_redis

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_bridge_status_reports_queue_lengths_and_lag():
    r = get_redis()
    r.lpush(keys.sms_monitor_queue(), monitor_event(status="valid", mobile="9876543210"))

    report = json.loads(run("bridge_status", "--json"))

    monitor = next(q for q in report["queues"] if q["name"] == "monitor")
    assert monitor["waiting"] == 1
    assert 0 <= monitor["lag_seconds"] < 60
    assert report["health"]["redis"] == "ok"
    assert "monitor" in run("bridge_status")


def test_flush_queues_drains_everything_now():
    get_redis().lpush(keys.sms_monitor_queue(), monitor_event(status="valid", mobile="9876543210"))
    blacklist_add(mobile=mobile_parse("9876543211"), source="command")

    out = run("flush_queues")

    assert "monitor events stored: 1" in out
    assert MonitorEvent.objects.count() == 1
    assert BlacklistAction.objects.count() == 1


def test_sweep_abuse_blacklists_offenders_and_reports_progress():
    get_redis().set(keys.abuse_counter("9876543210"), 50)

    out = run("sweep_abuse")

    assert "1 numbers newly blacklisted" in out
    assert get_redis().sismember(keys.blacklist_mobiles(), "9876543210")


def test_sweep_abuse_refuses_to_run_beside_another_sweep():
    with lock_hold("abuse_sweep"), pytest.raises(CommandError):
        run("sweep_abuse")


def test_warm_redis_rebuilds_the_sets_with_progress():
    from apps.abuse.services import blacklist_flush

    blacklist_add(mobile=mobile_parse("9876543210"), source="command")
    blacklist_flush()
    get_redis().flushdb()

    out = run("warm_redis")

    assert "blacklisted numbers: 1" in out
    assert get_redis().sismember(keys.blacklist_mobiles(), "9876543210")
    assert "nothing to do" in run("warm_redis", "--if-needed")


def test_purge_audit_deletes_old_rows():
    get_redis().lpush(keys.sms_monitor_queue(), monitor_event(status="valid", mobile="9876543210"))
    run("flush_queues")

    assert "0 monitor events" in run("purge_audit", "--days", "1")
    assert "1 monitor events" in run("purge_audit", "--days", "0")
