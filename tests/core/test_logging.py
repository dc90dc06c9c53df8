"""Logs a person can read: one record per 500, and periodic tasks quiet unless they worked."""

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from apps.audit.events import monitor_event
from apps.core import keys
from apps.core.logging import HousekeepingChatterFilter
from tests.polling import wait_for
from tests.processes import CeleryProcess, cluster

ROOT = Path(__file__).resolve().parents[2]

# A request to a DRF view and to a plain Django view that raise, in a process of its own
# configured as the given environment says (logging is set up once per process).
RAISE_IN_A_PROCESS = """
import django
django.setup()
from django.test import Client
from django.test.utils import override_settings
from django.urls import path
from rest_framework.views import APIView

class BoomApi(APIView):
    authentication_classes = permission_classes = []
    def get(self, request):
        raise RuntimeError("boom for 9876543210")

def boom(request):
    raise RuntimeError("plain boom for 9876543210")

import smsbridge.urls as project
project.urlpatterns = [path("api-boom", BoomApi.as_view()), path("boom", boom), *project.urlpatterns]
with override_settings(ALLOWED_HOSTS=["*"]):
    client = Client(raise_request_exception=False)
    print("statuses", client.get("/api-boom").status_code, client.get("/boom").status_code, flush=True)
"""


@pytest.mark.parametrize(("debug", "log_format"), [("0", "json"), ("1", "plain"), ("1", "json")])
def test_each_500_is_logged_once_with_its_traceback_masked(debug, log_format):
    result = subprocess.run(
        [sys.executable, "-c", RAISE_IN_A_PROCESS],
        cwd=ROOT,
        env={**_env(), "DJANGO_DEBUG": debug, "LOG_FORMAT": log_format},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert "statuses 500 500" in result.stdout, result.stderr
    output = result.stderr
    for path, message in (("/api-boom", "boom for"), ("/boom", "plain boom for")):
        assert output.count(f"Internal Server Error: {path}") == 1, output
        assert output.count(f"RuntimeError: {message} ******3210") == 1, output
    assert "9876543210" not in output


def _env() -> dict[str, str]:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "smsbridge.settings_test", "PYTHONUNBUFFERED": "1"}


def record(name: str, msg: str, args: dict | tuple, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, (args,) if isinstance(args, dict) else args, None)


def test_celery_tick_lines_of_periodic_tasks_become_debug_and_the_rest_stay():
    from celery.app.trace import LOG_RECEIVED, LOG_RETRY, LOG_SUCCESS

    chatter = HousekeepingChatterFilter()
    tick = {"name": "apps.audit.tasks.monitor_flush_task", "id": "1", "runtime": 0.01, "return_value": 0}
    callback = {**tick, "name": "apps.clients.tasks.callback_deliver_task"}
    sending = record("celery.beat", "Scheduler: Sending due task %s (%s)", ("monitor-flush", tick["name"]))

    assert not chatter.filter(record("celery.worker.strategy", LOG_RECEIVED, tick))
    assert not chatter.filter(record("celery.app.trace", LOG_SUCCESS, tick))
    assert not chatter.filter(sending)
    assert sending.levelname == "DEBUG"
    assert chatter.filter(record("celery.app.trace", LOG_SUCCESS, callback))  # real work stays
    assert chatter.filter(record("celery.app.trace", LOG_RETRY, {**tick, "exc": "x"}))  # so do retries
    assert chatter.filter(record("celery.app.trace", "Task %(name)s failed", tick, logging.ERROR))


def test_tick_lines_show_again_at_debug_level():
    from celery.app.trace import LOG_SUCCESS

    trace = logging.getLogger("celery.app.trace")
    before = trace.level
    trace.setLevel(logging.DEBUG)
    try:
        line = record("celery.app.trace", LOG_SUCCESS, {"name": "apps.core.tasks.heartbeat_task", "id": "1"})
        assert HousekeepingChatterFilter().filter(line)
        assert line.levelno == logging.DEBUG
    finally:
        trace.setLevel(before)


# --- an idle bridge, with real processes --------------------------------------------------
def info_lines(text: str) -> list[str]:
    lines = []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # Celery's start banner is printed, not logged
        if entry.get("level") == "INFO":
            lines.append(f"{entry['logger']}: {entry['message']}")
    return lines


def housekeeping_pool(c, name: str = "housekeeping") -> CeleryProcess:
    """The production housekeeping worker (deploy/Procfile), in the test cluster."""
    args = [
        "worker",
        "--loglevel",
        "INFO",
        "-c",
        "2",
        "-Q",
        "housekeeping",
        "-O",
        "fair",
        "--without-gossip",
        "--without-mingle",
    ]
    proc = CeleryProcess([*args, "--hostname", f"{name}@%h"], c.env, c.workdir / f"{name}.log")
    proc.start()
    c.workers.append(proc)  # stopped with the cluster
    return proc


@pytest.mark.slow
def test_an_idle_bridge_writes_no_info_line_per_tick_and_work_shows(database_url):
    with cluster(database_url) as c:  # every interval 1 s or less (settings_test.py)
        r = c.data()
        r.set(keys.redis_ready(), time.time())
        pool = housekeeping_pool(c)
        c.beat()
        wait_for(
            lambda: int(r.get(keys.heartbeat_runs()) or 0) >= 2,
            timeout=60,
            message=lambda: "ticks\n" + c.logs(),
        )
        logs = [pool.log, c.workdir / "beat0.log"]
        offsets = [log.stat().st_size for log in logs]
        runs = int(r.get(keys.heartbeat_runs()) or 0)

        wait_for(
            lambda: int(r.get(keys.heartbeat_runs()) or 0) >= runs + 5,
            timeout=60,
            message=lambda: "more ticks\n" + c.logs(),
        )

        idle = [
            line for log, at in zip(logs, offsets, strict=True) for line in info_lines(log.read_text()[at:])
        ]
        # About 60 ticks ran in that window; before, each wrote three INFO lines.
        assert idle == [], "\n".join(idle)

        r.lpush(keys.sms_monitor_queue(), monitor_event(status="valid", mobile="9876543210"))
        wait_for(
            lambda: "monitor-flush: 1 monitor events stored" in "\n".join(info_lines(pool.log.read_text())),
            timeout=60,
            message=lambda: "an INFO line for work done\n" + c.logs(),
        )
