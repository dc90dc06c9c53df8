"""Fail fast: with the data Redis hung (SIGSTOP) or refusing, one request per open period
waits for Redis; the others answer 503 without touching a socket, and /health asks Redis
only through its short-timeout client, and not at all once the breaker is open.

"Without waiting" is proven by counting the socket operations on the private Redis (a
connect or a command sent), not by a clock: a loaded test machine can stall any request,
but it cannot make one talk to Redis. ``make bench`` reports the milliseconds.
"""

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.connection import AbstractConnection

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


@dataclass
class RedisIO:
    """Every connect and command sent to one port, with the socket time-out it used."""

    port: int
    calls: list[tuple[str, float | None]] = field(default_factory=list)

    def during(self, call: Any) -> list[tuple[str, float | None]]:
        del self.calls[:]
        call()
        return list(self.calls)


@pytest.fixture
def redis_io(private_redis: RedisServer, monkeypatch: pytest.MonkeyPatch) -> RedisIO:
    io = RedisIO(private_redis.port)
    for name in ("connect_check_health", "send_packed_command"):
        original = getattr(AbstractConnection, name)

        def recorded(conn: Any, *args: Any, _original: Any = original, _name: str = name, **kw: Any) -> Any:
            if getattr(conn, "port", None) == io.port:
                io.calls.append((_name, conn.socket_timeout))
            return _original(conn, *args, **kw)

        monkeypatch.setattr(AbstractConnection, name, recorded)
    return io


def _timed(call: Any) -> tuple[Any, float]:
    start = time.monotonic()
    response = call()
    return response, time.monotonic() - start


def _503s(register: Any) -> None:
    """REQUESTS more registers: each must be a 503 in the error shape, with Retry-After."""
    for _ in range(REQUESTS):
        response = register()
        assert response.status_code == 503
        assert response.json()["code"] == "service_unavailable"
        assert int(response["Retry-After"]) > 0


@pytest.mark.parametrize("outage", ["stopped", "refused"])
def test_after_the_first_failure_requests_answer_503_without_asking_redis(
    outage, private_redis, redis_io, make_client, api, settings
):
    creds = make_client()
    register = lambda: api.get("/onboard/register/9876543210", **creds.auth)  # noqa: E731
    assert register().status_code == 200
    private_redis.pause() if outage == "stopped" else private_redis.kill()

    first, first_took = _timed(register)
    after = redis_io.during(lambda: _503s(register))

    assert first.status_code == 503
    if outage == "stopped":  # the one request that asked the hung Redis waited its time-out
        assert first_took >= settings.REDIS_SOCKET_TIMEOUT * 0.9
    assert after == [], f"requests after the first talked to Redis: {after}"


def test_health_answers_without_waiting_for_a_stopped_redis_before_and_after_the_breaker_opens(
    private_redis, redis_io, api, settings
):
    private_redis.pause()
    answers = []

    closed = redis_io.during(lambda: answers.append(api.get("/health")))  # breaker still closed
    _open_the_breaker()
    opened = redis_io.during(lambda: answers.append(api.get("/health")))
    ready = api.get("/health/ready")

    for response in answers:
        assert response.status_code == 200
        assert response.json()["status"] == "degraded"
        assert response.json()["redis"].startswith("error")
        assert response.json()["background_workers"] == "unknown"
    assert ready.status_code == 503
    # Before the breaker opens, /health asks Redis only with HEALTH_REDIS_TIMEOUT (0.1 s),
    # never with the data client's longer REDIS_SOCKET_TIMEOUT; once open, not at all.
    assert closed and all(timeout == settings.HEALTH_REDIS_TIMEOUT for _, timeout in closed), closed
    assert opened == [], opened


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
