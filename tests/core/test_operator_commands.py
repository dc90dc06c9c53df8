import getpass
import json
import os
import subprocess
import sys
import uuid
from io import StringIO
from pathlib import Path

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
ROOT = Path(__file__).resolve().parents[2]
OS_ACTOR = f"os:{getpass.getuser()}"


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def manage(database_url: str, *args: str) -> subprocess.CompletedProcess:
    """The command in a process of its own, as an operator's shell runs it."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "smsbridge.settings_test", "DATABASE_URL": database_url}
    env["LOG_LEVEL"] = "WARNING"  # start-up INFO lines are not the command's output
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def refused(*args: str) -> str:
    """The one message a command refuses ``args`` with (call_command raises it as CommandError)."""
    with pytest.raises(CommandError) as caught:
        run(*args)
    return str(caught.value)


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
    assert BlacklistAction.objects.filter(action="add", actor=OS_ACTOR, source="command").count() == 1
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


# --- bad arguments: one error line, a non-zero exit, no traceback -----------------------------
BAD_INVOCATIONS = [
    (
        ("simulate_sms", "9876543210", "--client", "nonexistent"),
        1,
        "'nonexistent' is not a client id (a UUID).",
    ),
    (("blacklist", "add", "not-a-number"), 1, "'not-a-number' is not a valid phone number."),
    (("create_client", "Shop", "--webhook-url", "ftp://shop.example/hook"), 1, "must start with https://"),
    (("revoke_key", "sbk_nope"), 1, "No API key matches 'sbk_nope'."),
    (("purge_audit", "--days", "many"), 2, "argument --days: invalid int value: 'many'"),
]


@pytest.mark.slow  # manage.py in its own process
@pytest.mark.parametrize(("args", "code", "message"), BAD_INVOCATIONS)
def test_a_command_refuses_bad_arguments_with_one_error_line(database_url, args, code, message):
    result = manage(database_url, *args)

    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and message in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.slow  # manage.py in its own process
def test_a_duplicate_client_name_is_refused_by_the_command_in_its_own_process(database_url):
    from apps.clients.services import client_create

    client_create(name="Shop")  # committed: the test database is transactional here

    result = manage(database_url, "create_client", "SHOP")

    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == "error: A client named 'SHOP' exists already (names are compared ignoring case)."
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("client", "deactivate", "nope"), "'nope' is not a client id (a UUID)."),
        (("client", "activate", str(uuid.UUID(int=1))), f"No client has the id {uuid.UUID(int=1)}."),
        (("gateway", "rotate", "nope"), "'nope' is not a gateway id (a UUID)."),
        (("create_gateway", "native", "weak", "--secret", "short"), "at least 16 characters"),
        (("create_gateway", "native", "X", "--countries", "91,abc"), "'abc' is not a country calling code"),
        (("create_client", " "), "A client needs a name."),
        (
            ("create_client", "Shop", "--webhook-url", "https://u:p@shop.example/"),
            "must not carry a user name",
        ),
        (("purge_audit", "--days", "-1"), "--days must be 0 or more, not -1."),
        (("blacklist", "remove", "12"), "'12' is not a valid phone number."),
        (("simulate_sms", "12345"), "'12345' is not a valid phone number."),
    ],
)
def test_more_bad_arguments_are_refused_with_a_clear_message(args, message):
    assert message in refused(*args)


def test_a_typo_in_one_number_blacklists_none_of_them():
    assert "'98765x' is not a valid phone number." in refused("blacklist", "add", "9876543210", "98765x")

    assert get_redis().scard(keys.blacklist_mobiles()) == 0


def test_every_command_is_an_operator_command():
    from django.core.management import get_commands, load_command_class

    from apps.core.commands import OperatorCommand

    ours = {name: app for name, app in get_commands().items() if app.startswith("apps.")}
    assert ours, "no project commands found"
    plain = [
        name for name, app in ours.items() if not isinstance(load_command_class(app, name), OperatorCommand)
    ]
    assert plain == []
