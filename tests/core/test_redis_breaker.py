"""Fail fast: with the data Redis hung (SIGSTOP) or refusing, one request per open period
waits for Redis; the others answer 503 at once, and /health answers within 200 ms.

Latency is judged against the socket time-out, not an absolute number: the 2nd..Nth
request must each return well before one time-out could have elapsed (``make bench``
reports the milliseconds).
"""

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from apps.core import keys
from apps.core.redis import RedisBreaker, RedisUnavailable, data_breaker, get_redis
from tests.processes import RedisServer

pytestmark = [pytest.mark.slow, pytest.mark.django_db]  # a private redis-server

REQUESTS = 20
OPEN_SECONDS = 1.5


@pytest.fixture
def private_redis(tmp_path: Path, settings: Any) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    settings.REDIS_URL = server.url(0)
    settings.REDIS_BREAKER_OPEN_SECONDS = OPEN_SECONDS  # read when this URL's breaker is made
    get_redis().set(keys.redis_ready(), time.time())
    try:
        yield server
    finally:
        server.resume()
        data_breaker().reset()
        server.kill()


def _timed(call: Any) -> tuple[Any, float]:
    start = time.monotonic()
    response = call()
    return response, time.monotonic() - start


def _fast_503s(register: Any, settings: Any) -> list[float]:
    """REQUESTS more registers: each must be a 503 in the error shape, with Retry-After."""
    took = []
    for _ in range(REQUESTS):
        response, seconds = _timed(register)
        assert response.status_code == 503
        assert response.json()["code"] == "service_unavailable"
        assert int(response["Retry-After"]) > 0
        took.append(seconds)
    return took


@pytest.mark.parametrize("outage", ["stopped", "refused"])
def test_after_the_first_failure_requests_answer_503_before_a_socket_timeout(
    outage, private_redis, make_client, api, settings
):
    creds = make_client()
    register = lambda: api.get("/onboard/register/9876543210", **creds.auth)  # noqa: E731
    assert register().status_code == 200
    private_redis.pause() if outage == "stopped" else private_redis.kill()

    first, first_took = _timed(register)
    took = _fast_503s(register, settings)

    assert first.status_code == 503
    timeout = settings.REDIS_SOCKET_TIMEOUT
    if outage == "stopped":
        assert first_took >= timeout * 0.9  # the one request that asked the hung Redis
    slow = [t for t in took if t >= timeout / 2]
    assert not slow, f"{len(slow)} of {REQUESTS} requests after the first waited for Redis: {took}"


def test_health_answers_without_waiting_for_a_stopped_redis_before_and_after_the_breaker_opens(
    private_redis, api, settings
):
    private_redis.pause()

    closed, closed_took = _timed(lambda: api.get("/health"))  # the breaker knows nothing yet
    _open_the_breaker()
    opened, opened_took = _timed(lambda: api.get("/health"))
    ready = api.get("/health/ready")

    for response in (closed, opened):
        assert response.status_code == 200
        assert response.json()["status"] == "degraded"
        assert response.json()["redis"].startswith("error")
        assert response.json()["background_workers"] == "unknown"
    assert ready.status_code == 503
    # HEALTH_REDIS_TIMEOUT (0.1 s) bounds the first; judged against the data client's socket
    # time-out, which a loaded test machine cannot blur (make bench reports the figures).
    assert closed_took < settings.REDIS_SOCKET_TIMEOUT, closed_took
    assert opened_took < 0.2, opened_took  # no Redis call at all: milliseconds


def _open_the_breaker() -> None:
    """One command on the hung Redis: it times out and opens the breaker."""
    with pytest.raises(redis.TimeoutError):
        get_redis().ping()
    assert data_breaker().is_open


def test_after_the_open_period_one_request_probes_and_redis_back_closes_the_breaker(
    private_redis, make_client, api
):
    creds = make_client()
    register = lambda: api.get("/onboard/register/9876543210", **creds.auth)  # noqa: E731
    private_redis.pause()
    assert register().status_code == 503  # opens the breaker
    assert register().status_code == 503

    private_redis.resume()
    assert register().status_code == 503  # still open: nobody asked Redis yet
    time.sleep(OPEN_SECONDS + 0.1)

    assert register().status_code == 200  # the probe found Redis back
    assert not data_breaker().is_open


def test_a_probe_in_flight_lets_the_other_callers_fail_fast():
    breaker = RedisBreaker(open_seconds=0.01)
    breaker.failure()
    time.sleep(0.02)

    breaker.before()  # this caller is the probe
    errors: list[BaseException] = []
    other = threading.Thread(target=lambda: _capture(breaker.before, errors))
    other.start()
    other.join()
    assert len(errors) == 1 and isinstance(errors[0], RedisUnavailable)
    breaker.before()  # the probe's own nested command (a script load in a pipeline) passes
    breaker.success()
    breaker.before()
    assert not breaker.is_open


def _capture(call: Any, errors: list[BaseException]) -> None:
    try:
        call()
    except BaseException as exc:
        errors.append(exc)
