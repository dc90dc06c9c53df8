import time

import pytest

from apps.core import health, keys
from apps.core.redis import get_redis
from tests.core.test_logging import housekeeping_pool
from tests.polling import wait_for
from tests.processes import cluster

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://127.0.0.1:1/0"


def test_health_reports_each_part(api):
    get_redis().set(keys.heartbeat("worker"), time.time())

    response = api.get("/health")

    assert response.status_code == 200
    assert response.json() == {
        "status": "healthy",
        "redis": "ok",
        "database": "ok",
        "background_workers": "running",
    }


def test_health_is_degraded_without_a_recent_worker_heartbeat(api):
    get_redis().set(keys.heartbeat("worker"), time.time() - 3600)

    body = api.get("/health").json()

    assert body["status"] == "degraded"
    assert body["background_workers"] == "stale"


def test_with_redis_down_health_is_degraded_and_not_ready(api, settings):
    settings.REDIS_URL = DEAD_REDIS

    health = api.get("/health")
    ready = api.get("/health/ready")

    assert health.status_code == 200
    assert health.json()["status"] == "degraded"
    assert health.json()["redis"].startswith("error")
    assert ready.status_code == 503
    assert api.get("/health/live").status_code == 200


def test_with_redis_down_register_answers_503_and_a_gateway_is_acknowledged(
    api, client_creds, make_gateway, settings
):
    gateway = make_gateway("native")
    api.get("/onboard/register/9876543210", **client_creds.auth)  # credentials known in-process
    settings.REDIS_URL = DEAD_REDIS

    register = api.get("/onboard/register/9876543210", **client_creds.auth)
    receive = api.post(
        "/sms/receive",
        {"sender_number": "9876543210", "sms_message": "x", "received_timestamp": "2026-01-01T00:00:00Z"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {gateway.secret}",
    )

    assert register.status_code == 503
    assert register.json()["code"] == "service_unavailable"
    assert int(register["Retry-After"]) > 0
    assert receive.status_code == 202  # kept in the inbound outbox (tests/inbound/test_outbox.py)


def test_unknown_paths_answer_404_in_the_error_shape(api):
    response = api.get("/no/such/path")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


# --- starting: from a recorded start of beat or the housekeeping worker to its first heartbeat --
def test_workers_are_starting_and_the_bridge_healthy_after_a_start_with_no_heartbeat_yet(api):
    get_redis().set(keys.heartbeat_started(), time.time() - 2)

    body = api.get("/health").json()

    assert body["background_workers"] == "starting"
    assert body["status"] == "healthy"


def test_a_restart_after_a_stale_heartbeat_is_starting_until_the_next_heartbeat(api):
    r = get_redis()
    r.set(keys.heartbeat("worker"), time.time() - 600)
    r.set(keys.heartbeat_started(), time.time() - 1)

    assert api.get("/health").json()["background_workers"] == "starting"

    r.set(keys.heartbeat("worker"), time.time())
    assert api.get("/health").json() == {
        "status": "healthy",
        "redis": "ok",
        "database": "ok",
        "background_workers": "running",
    }


def test_starting_ends_with_the_grace_period(api, settings):
    r = get_redis()
    r.set(keys.heartbeat_started(), time.time() - settings.HEARTBEAT_STALE_AFTER - 1)
    assert api.get("/health").json()["background_workers"] == "not_running"

    r.set(keys.heartbeat("worker"), time.time() - settings.HEARTBEAT_STALE_AFTER - 5)
    body = api.get("/health").json()
    assert (body["status"], body["background_workers"]) == ("degraded", "stale")


def test_the_state_follows_the_heartbeat_and_the_last_start(settings):
    grace = settings.HEARTBEAT_STALE_AFTER
    state = health.workers_state

    assert state(heartbeat_age=grace + 5, since_start=grace - 5) == "starting"  # none since the start
    assert state(heartbeat_age=grace - 4, since_start=grace - 3) == "running"
    assert state(heartbeat_age=grace + 1, since_start=grace - 3) == "starting"
    assert state(heartbeat_age=grace + 1, since_start=grace + 3) == "stale"  # grace over
    assert state(heartbeat_age=None, since_start=grace + 1) == "not_running"
    assert state(heartbeat_age=None, since_start=None) == "not_running"


@pytest.mark.slow
def test_health_says_starting_from_the_first_process_start_then_running(database_url, settings, api):
    # A heartbeat every 5 s leaves a few seconds between the start and the first one.
    with cluster(database_url, HEARTBEAT_INTERVAL="5") as c:
        c.use_in(settings)
        c.data().set(keys.redis_ready(), time.time())
        assert api.get("/health").json()["background_workers"] == "not_running"  # nothing started yet

        housekeeping_pool(c)
        c.beat()
        seen: list[str] = []

        def state() -> str:
            body = api.get("/health").json()
            workers = body["background_workers"]
            if workers != "not_running":  # before the processes got as far as recording their start
                assert body["status"] == "healthy", body  # never degraded while starting
            if not seen or seen[-1] != workers:
                seen.append(workers)
            return workers

        wait_for(lambda: state() == "running", timeout=60, message=c.logs)

    assert seen == ["starting", "running"] or seen == ["not_running", "starting", "running"], seen
