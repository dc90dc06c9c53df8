"""Redis killed and restarted with its data (AOF) while SMS flow, several times over, with a
real worker and beat: "Redis is loading the dataset" is a transient error to every
process, the worker survives each restart, and every SMS is judged exactly once."""

import os
import time
from collections import Counter

import pytest
import redis

from apps.audit.models import MonitorEvent
from apps.clients.services import client_create
from apps.core import keys
from apps.inbound.services import gateway_create
from tests.helpers import send_native
from tests.polling import wait_for
from tests.processes import cluster

pytestmark = pytest.mark.slow

RESTARTS = int(os.environ.get("REDIS_RESTARTS", "5"))  # more to hunt a rare crash
PER_PHASE = 4  # SMS sent before each kill, while Redis is down, and while it loads
BALLAST_KEYS = 1_000_000  # enough data for about a second of loading after each restart
BALLAST_DB = 9
FILL = "for i = 1, tonumber(ARGV[1]) do redis.call('SET', 'ballast:' .. i, ARGV[2]) end"


def _loading(port: int) -> bool:
    try:
        return bool(redis.Redis(port=port, socket_timeout=0.5).info("persistence")["loading"])
    except redis.BusyLoadingError:
        return True
    except redis.ConnectionError:
        return False


def test_the_worker_rides_through_redis_restarts_and_judges_every_sms_once(database_url, settings, api):
    with cluster(database_url, appendonly=True, SMS_OUTBOX_FLUSH_INTERVAL="0.5") as c:
        c.use_in(settings)
        c.data().set(keys.redis_ready(), time.time())
        ballast = redis.Redis(port=c.redis.port, db=BALLAST_DB, socket_timeout=60)
        ballast.eval(FILL, 0, BALLAST_KEYS, "x" * 64)
        ballast.bgrewriteaof()  # the ballast into the AOF: each restart loads it again
        wait_for(lambda: not ballast.info("persistence")["aof_rewrite_in_progress"], timeout=60)
        _, key = client_create(name="restart-test")
        _, token = gateway_create(kind="native", name="restart-test")
        total = RESTARTS * 3 * PER_PHASE
        numbers = [f"97{n:08d}" for n in range(total)]
        auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
        bodies = [api.get(f"/onboard/register/{n}", **auth).json()["sms_body"] for n in numbers]
        worker = c.worker()
        c.beat()

        uuids, saw_loading = [], 0
        pending = iter(zip(numbers, bodies, strict=True))

        def send(count: int) -> None:
            for number, body in (next(pending) for _ in range(count)):
                response = send_native(api, token, number, body)
                assert response.status_code == 202, response.content
                uuids.append(response.json()["uuid"])

        for _ in range(RESTARTS):
            send(PER_PHASE)
            time.sleep(0.3)  # the worker is mid-batch or polling when Redis dies
            c.redis.kill()
            send(PER_PHASE)  # refused: kept in the outbox
            c.redis.start(wait=False)
            wait_for(lambda: _loading(c.redis.port) or c.data().ping(), timeout=10, interval=0.01)
            saw_loading += _loading(c.redis.port)
            send(PER_PHASE)  # loading (or just loaded)
            wait_for(lambda: _pings(c), timeout=30, message="Redis back")
            time.sleep(1)
            assert worker.alive, "the worker died on a Redis restart\n" + c.logs()

        wait_for(
            lambda: MonitorEvent.objects.filter(sms_uuid__in=uuids).count() >= total,
            timeout=90,
            message=lambda: (
                f"{MonitorEvent.objects.filter(sms_uuid__in=uuids).count()} of {total} verdicts\n" + c.logs()
            ),
        )
        time.sleep(2)
        judged = Counter(MonitorEvent.objects.filter(sms_uuid__in=uuids).values_list("sms_uuid", flat=True))
        assert set(judged) == set(uuids)
        assert set(judged.values()) == {1}, [u for u, n in judged.items() if n > 1]
        assert worker.alive, c.logs()
        assert saw_loading, "no restart was caught loading: raise BALLAST_KEYS"
        log = (c.workdir / "worker0.log").read_text()
        assert "Unrecoverable error" not in log


def _pings(c) -> bool:
    try:
        return bool(c.data().ping())
    except redis.RedisError:
        return False
