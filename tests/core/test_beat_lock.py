"""The single-beat lock across a Redis restart with its data (AOF): the beat that held it
keeps its token while Redis is away or loading and renews the same lock at once after,
instead of standing by until its own lock expires."""

import time
from pathlib import Path
from typing import Any

import pytest

from apps.core.beat import SingleBeatScheduler
from smsbridge.celery import app
from tests.processes import RedisServer

pytestmark = pytest.mark.slow  # a private redis-server


def test_the_beat_holding_the_lock_renews_it_right_after_a_restart_with_data(tmp_path: Path, settings: Any):
    server = RedisServer(tmp_path, appendonly=True, appendfsync="always")
    server.start()
    settings.REDIS_URL = server.url(0)
    settings.REDIS_BREAKER_OPEN_SECONDS = 0.2
    settings.BEAT_LOCK_TIMEOUT = 60  # far longer than the test: no expiry can explain a success
    holder, standby = SingleBeatScheduler(app=app, lazy=True), SingleBeatScheduler(app=app, lazy=True)
    try:
        assert holder._hold_lock()

        server.kill()
        assert not holder._hold_lock()  # Redis away: nothing is sent
        server.start()
        time.sleep(0.3)  # the breaker's open period

        assert holder._hold_lock()  # the same lock, still its own
        assert not standby._hold_lock()
    finally:
        server.kill()
