"""Outages with real processes: Redis restarted empty, PostgreSQL unreachable, two beats."""

import time

import pytest

from apps.abuse.models import BlacklistEntry
from apps.audit.models import MonitorEvent
from apps.core import keys
from apps.core.system_settings import system_settings_get
from apps.onboarding.models import OutSms
from tests.helpers import client_and_gateway, send_native
from tests.polling import wait_for
from tests.processes import TcpProxy, cluster

pytestmark = pytest.mark.slow


def test_redis_restarted_empty_is_repaired_from_postgresql_on_its_own(database_url, settings, api):
    from apps.abuse.services import blacklist_add
    from apps.core.phone import mobile_parse

    with cluster(database_url, REDIS_REPAIR_INTERVAL="1", BLACKLIST_FLUSH_INTERVAL="0.5") as c:
        c.use_in(settings)
        c.data().set(keys.redis_ready(), time.time())
        creds, token = client_and_gateway("outage-test")
        c.worker()
        c.beat()
        body = api.get("/onboard/register/9876543210", **creds.auth).json()["sms_body"]
        send_native(api, token, "9876543210", body)
        blacklist_add(mobile=mobile_parse("9876543299"), source="test")
        wait_for(
            lambda: OutSms.objects.filter(local_mobile="9876543210").exists(),
            timeout=30,
            message=lambda: "out_sms row\n" + c.logs(),
        )
        wait_for(
            lambda: BlacklistEntry.objects.filter(mobile="9876543299").exists(),
            timeout=30,
            message="blacklist row",
        )

        c.redis.kill()  # no persistence: everything in Redis is gone
        c.redis.start()

        # Until the repair has run, nothing may onboard the verified number again.
        first = api.get("/onboard/register/9876543210", **creds.auth)
        assert first.status_code in {409, 503}
        try:
            wait_for(
                lambda: api.get("/onboard/register/9876543210", **creds.auth).status_code == 409,
                timeout=60,
                message="the verified set to come back",
            )
        except AssertionError:
            c.dump_stacks()
            raise AssertionError("the verified set never came back\n" + c.logs()) from None
        assert api.get("/onboard/register/9876543299", **creds.auth).status_code == 403
        assert c.data().sismember(keys.out_sms_numbers(), "9876543210")


def test_postgresql_unreachable_delays_the_drains_and_loses_nothing(
    database_url, settings, api, django_assert_num_queries
):
    proxy = TcpProxy(5432)
    proxied_url = database_url.replace(":5432/", f":{proxy.port}/")
    numbers = [f"95{n:08d}" for n in range(20)]
    try:
        with cluster(proxied_url, MONITOR_FLUSH_INTERVAL="0.5", OUT_SMS_FLUSH_INTERVAL="0.5") as c:
            c.use_in(settings)
            c.data().set(keys.redis_ready(), time.time())
            creds, token = client_and_gateway("outage-test")
            c.worker()
            c.beat()
            system_settings_get()  # a serving web process has its settings cached
            proxy.cut()  # PostgreSQL is now unreachable for the workers

            with django_assert_num_queries(0):  # the hot path never needed it
                for number in numbers:
                    body = api.get(f"/onboard/register/{number}", **creds.auth).json()["sms_body"]
                    assert send_native(api, token, number, body).status_code == 202
            r = c.data()
            wait_for(
                lambda: r.scard(keys.out_sms_numbers()) == len(numbers),
                timeout=30,
                message=lambda: "verdicts in Redis\n" + c.logs(),
            )
            time.sleep(3)  # several drain ticks fail while the database is away
            assert OutSms.objects.count() == 0
            assert r.llen(keys.sms_monitor_queue()) + r.zcard(keys.batch_index(keys.sms_monitor_queue())) > 0

            proxy.restore()

            wait_for(
                lambda: OutSms.objects.count() == len(numbers),
                timeout=60,
                message=lambda: "out_sms after recovery\n" + c.logs(),
            )
            wait_for(
                lambda: MonitorEvent.objects.filter(status="valid").count() == len(numbers),
                timeout=60,
                message="audit",
            )
    finally:
        proxy.close()
    assert MonitorEvent.objects.filter(status="onboard_requested").count() == len(numbers)
    assert MonitorEvent.objects.values("event_id").distinct().count() == MonitorEvent.objects.count()


def test_with_two_beats_each_periodic_task_runs_once_per_interval_and_one_takes_over(database_url):
    with cluster(database_url, HEARTBEAT_INTERVAL="1", BEAT_LOCK_TIMEOUT="5") as c:
        r = c.data()
        c.worker()
        first, second = c.beat(), c.beat()
        wait_for(
            lambda: r.get(keys.heartbeat_runs()), timeout=30, message=lambda: "a first heartbeat\n" + c.logs()
        )
        start = int(r.get(keys.heartbeat_runs()) or 0)
        time.sleep(10)
        runs = int(r.get(keys.heartbeat_runs()) or 0) - start
        assert 7 <= runs <= 12, f"{runs} heartbeats in 10 s with two beats (one per second expected)"

        active = first if "acquired the scheduling lock" in (c.workdir / "beat0.log").read_text() else second
        active.kill9()
        before = int(r.get(keys.heartbeat_runs()) or 0)
        wait_for(
            lambda: int(r.get(keys.heartbeat_runs()) or 0) > before + 3,
            timeout=45,
            message=lambda: "the standby beat to take over\n" + c.logs(),
        )


def test_heartbeats_make_health_report_running_workers(database_url, settings, api):
    with cluster(database_url, HEARTBEAT_INTERVAL="1") as c:
        c.use_in(settings)
        c.data().set(keys.redis_ready(), time.time())
        assert api.get("/health").json()["background_workers"] == "not_running"
        c.worker()
        c.beat()
        wait_for(
            lambda: api.get("/health").json()["background_workers"] == "running",
            timeout=30,
            message=c.logs,
        )
        assert api.get("/health").json()["status"] == "healthy"
