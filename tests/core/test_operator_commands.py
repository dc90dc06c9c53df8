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


def test_revoke_key_by_prefix(django_capture_on_commit_callbacks):
    from apps.clients.models import ApiKey
    from apps.clients.services import client_create

    with django_capture_on_commit_callbacks(execute=True):
        _, key = client_create(name="Shop")

    with django_capture_on_commit_callbacks(execute=True):
        out = run("revoke_key", key[:12])

    assert "Revoked" in out
    assert ApiKey.objects.get().revoked_at is not None
    with pytest.raises(CommandError):
        run("revoke_key", "sbk_nope")


def test_blacklist_add_list_remove():
    assert "9876543210: blacklisted" in run("blacklist", "add", "+919876543210", "--reason", "fraud")
    assert BlacklistAction.objects.filter(action="add", actor="manage.py").count() == 1
    assert "9876543210" in run("blacklist", "list")
    assert "9876543210: removed" in run("blacklist", "remove", "9876543210")
    assert not get_redis().sismember(keys.blacklist_mobiles(), "9876543210")
    with pytest.raises(CommandError):
        run("blacklist", "add", "not-a-number")


def test_redis_health_checks_every_role_with_a_round_trip(settings):
    report = json.loads(run("redis_health", "--json"))
    assert {role: r["status"] for role, r in report.items()} == dict.fromkeys(
        ["data", "broker", "results", "cache"], "ok"
    )

    settings.CACHE_URL = "redis://127.0.0.1:1/0"
    with pytest.raises(SystemExit) as exited:
        run("redis_health")
    assert exited.value.code == 1


def test_redis_stats_reports_info_and_key_families():
    r = get_redis()
    r.set(keys.abuse_counter("9876543210"), 3)
    r.set(keys.onboard_hash("9876543210"), "h")

    report = json.loads(run("redis_stats", "--json"))

    families = {f["pattern"]: f["count"] for f in report["families"]}
    assert families["abuse_counter:*"] == 1
    assert families["onboard_hash:*"] == 1
    assert report["families_complete"] is True
    assert report["used_memory_human"]
    assert "abuse_counter:*" in run("redis_stats")
