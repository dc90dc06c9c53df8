"""The Celery app. Configuration lives in the top-level ``celeryconfig`` module."""

import faulthandler
import os
import signal
from typing import Any

from celery import Celery
from celery.signals import beat_init, celeryd_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smsbridge.settings")
# SIGUSR2 prints every thread's stack to stderr: how to see where a stuck worker or
# beat is waiting, without stopping it.
faulthandler.register(signal.SIGUSR2, all_threads=True)

app = Celery("smsbridge")
app.config_from_object("celeryconfig")
app.autodiscover_tasks()


@celeryd_init.connect
def _worker_setup(conf: Any, options: dict[str, Any], **_: Any) -> None:
    """A pool that serves only beat's ticks sends no task events, so Flower lists real work only.

    It still sends worker heartbeats (Flower shows it online). Its failures stay visible
    as ERROR log lines, and a pool that stopped shows in /health (the heartbeat runs
    there) and in the queues' lag.
    """
    from celeryconfig import HOUSEKEEPING_QUEUE

    queues = set(options.get("queues") or [])
    if queues == {HOUSEKEEPING_QUEUE}:
        conf.worker_send_task_events = False
        _refuse_remote_enable_events()
    if not queues or HOUSEKEEPING_QUEUE in queues:
        _start_record()


def _refuse_remote_enable_events() -> None:
    """Keep task events off when asked over the broker: Flower sends every worker the
    ``enable_events`` control command every few seconds, which would turn them back on.
    Replaces that command in this process only (the housekeeping pool's)."""
    from celery.worker.control import control_command

    @control_command(name="enable_events")
    def _task_events_stay_off(state: Any) -> dict[str, str]:
        return {"ok": "task events stay off in the housekeeping pool"}


@beat_init.connect
def _beat_setup(sender: Any, **_: Any) -> None:
    # Beat sends nothing but housekeeping ticks: no "task-sent" events, or Flower would
    # list every tick as a task that never started (the pool that runs them is silent).
    sender.app.conf.task_send_sent_event = False
    _start_record()


def _start_record() -> None:
    from apps.core.health import background_start_record

    background_start_record()
