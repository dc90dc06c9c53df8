"""The one owner of Redis connection pools, one pool per role (data, broker, results, cache).

Timeouts are short on purpose: the hot path must answer 503 quickly when Redis is
down rather than hang a web worker. The data client also sits behind a circuit
breaker (``RedisBreaker``): once a command timed out or could not connect, the
process stops asking for REDIS_BREAKER_OPEN_SECONDS and every command fails at once
with ``RedisUnavailable``, so a hung Redis costs one socket timeout per process and
period instead of one per request.
"""

import functools
import math
import threading
import time
from pathlib import Path
from typing import Any, Literal

import redis
from django.conf import settings
from redis.client import Pipeline
from redis.commands.core import Script

Role = Literal["data", "broker", "results", "cache"]


def _url(role: Role) -> str:
    return {
        "data": settings.REDIS_URL,
        "broker": settings.CELERY_BROKER_URL,
        "results": settings.CELERY_RESULT_BACKEND,
        "cache": settings.CACHE_URL,
    }[role]


@functools.cache
def _pool(role: Role, url: str) -> redis.ConnectionPool:
    return redis.ConnectionPool.from_url(
        url,
        socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
        socket_connect_timeout=settings.REDIS_CONNECT_TIMEOUT,
        health_check_interval=30,
        decode_responses=True,
    )


# Errors that say "Redis is not serving" (unreachable, hung, restarting, loading its
# data: BusyLoadingError is a ConnectionError), as opposed to a refused command.
REDIS_DOWN_ERRORS: tuple[type[Exception], ...] = (redis.ConnectionError, redis.TimeoutError)


class RedisUnavailable(redis.ConnectionError):
    """The data Redis failed a moment ago and the breaker is open: not even tried."""

    def __init__(self, retry_in: float) -> None:
        super().__init__(f"Redis failed a moment ago; next try in {retry_in:.2f} s")
        self.retry_in = retry_in

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil(self.retry_in))


class RedisBreaker:
    """Closed, open for ``open_seconds`` after a failure, then one probe (half-open).

    Hand-written rather than pybreaker (1.4.1): its ``CircuitBreaker.call`` holds one
    lock for the whole guarded call, which would serialize every Redis command of a
    threaded gunicorn worker or of the sender's thread pool, and queue all of them
    behind a command hung on a stopped Redis. Here the lock covers only the state
    change; while the one probe is out, other callers fail fast instead of waiting.
    """

    def __init__(self, open_seconds: float) -> None:
        self.open_seconds = open_seconds
        self._lock = threading.Lock()
        self._open_until = 0.0  # monotonic; 0 = closed
        self._probing = False
        self._prober = 0  # the thread whose call is the probe: its nested commands pass

    def before(self) -> None:
        """Raise RedisUnavailable while open; let one caller through once it is time."""
        if not self._open_until:
            return
        with self._lock:
            now = time.monotonic()
            if not self._open_until or (self._probing and self._prober == threading.get_ident()):
                return
            if now < self._open_until or self._probing:
                raise RedisUnavailable(max(0.0, self._open_until - now))
            self._probing, self._prober = True, threading.get_ident()  # this caller is the probe

    def success(self) -> None:
        if self._open_until:
            with self._lock:
                self._open_until, self._probing = 0.0, False

    def failure(self) -> None:
        with self._lock:
            self._open_until = time.monotonic() + self.open_seconds
            self._probing = False

    @property
    def is_open(self) -> bool:
        return bool(self._open_until) and (time.monotonic() < self._open_until or self._probing)

    def reset(self) -> None:
        self.success()

    def guarded(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        self.before()
        try:
            result = call(*args, **kwargs)
        except RedisUnavailable:
            raise
        except REDIS_DOWN_ERRORS:
            self.failure()
            raise
        except BaseException:
            self.success()  # a refused command (WRONGTYPE, OOM...) is an answer: Redis is up
            raise
        self.success()
        return result


class GuardedPipeline(Pipeline):
    breaker: RedisBreaker

    def execute(self, raise_on_error: bool = True) -> list[Any]:
        return self.breaker.guarded(super().execute, raise_on_error)

    def immediate_execute_command(self, *args: Any, **options: Any) -> Any:
        return self.breaker.guarded(super().immediate_execute_command, *args, **options)


class GuardedRedis(redis.Redis):
    """A client whose every command and pipeline goes through ``breaker`` (scripts and
    locks too: they call execute_command)."""

    breaker: RedisBreaker

    def execute_command(self, *args: Any, **options: Any) -> Any:
        return self.breaker.guarded(super().execute_command, *args, **options)

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> GuardedPipeline:
        pipe = GuardedPipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)
        pipe.breaker = self.breaker
        return pipe


_BREAKERS: dict[str, RedisBreaker] = {}


def _breaker(url: str) -> RedisBreaker:
    if url not in _BREAKERS:
        _BREAKERS.setdefault(url, RedisBreaker(settings.REDIS_BREAKER_OPEN_SECONDS))
    return _BREAKERS[url]


def breakers_reset() -> None:
    """Close every breaker of this process (the test suite, between tests)."""
    for breaker in _BREAKERS.values():
        breaker.reset()


def data_breaker() -> RedisBreaker:
    """This process's breaker of the data Redis (one per URL, so a test's private server
    has its own)."""
    return _breaker(_url("data"))


def get_redis(role: Role = "data") -> redis.Redis:
    """The process's client for ``role``: built once, since building one copies redis-py's
    response-callback table (about a tenth of a register request when done per call)."""
    return _client(role, _url(role))


@functools.cache
def _client(role: Role, url: str) -> redis.Redis:
    if role != "data":
        return redis.Redis(connection_pool=_pool(role, url))
    client = GuardedRedis(connection_pool=_pool(role, url))
    client.breaker = _breaker(url)
    return client


def probe_redis() -> redis.Redis:
    """A data-Redis client with HEALTH_REDIS_TIMEOUT, outside the breaker: /health asks
    Redis itself (unless the breaker is open) and must answer within 200 ms when Redis
    hangs, where REDIS_SOCKET_TIMEOUT alone would cost half a second per command."""
    return _probe_client(_url("data"))


def follower_redis() -> redis.Redis:
    """A data-Redis client for blocking reads (``XREAD BLOCK`` of an event stream), outside
    the breaker: a read that waits up to EVENT_STREAM_KEEPALIVE_SECONDS for an event is
    not a hung Redis, so its socket timeout is that wait plus REDIS_SOCKET_TIMEOUT."""
    return _follower_client(_url("data"))


@functools.cache
def _follower_client(url: str) -> redis.Redis:
    timeout = settings.EVENT_STREAM_KEEPALIVE_SECONDS + settings.REDIS_SOCKET_TIMEOUT
    pool = redis.ConnectionPool.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=settings.REDIS_CONNECT_TIMEOUT,
        decode_responses=True,
    )
    return redis.Redis(connection_pool=pool)


@functools.cache
def _probe_client(url: str) -> redis.Redis:
    timeout = settings.HEALTH_REDIS_TIMEOUT
    pool = redis.ConnectionPool.from_url(
        url, socket_timeout=timeout, socket_connect_timeout=timeout, decode_responses=True
    )
    return redis.Redis(connection_pool=pool)


_SCRIPTS_DIR = Path(__file__).resolve().parent.parent
_INCLUDE = "--!include "


def script_source(relative_path: str) -> str:
    """The Lua source of ``apps/<relative_path>``, with its ``--!include`` lines expanded.

    Redis scripts cannot import each other; a shared function (the rate limiter) is
    pasted in at load time instead of being copied into every script by hand.
    """
    lines = (_SCRIPTS_DIR / relative_path).read_text().splitlines()
    expanded = [
        script_source(line.removeprefix(_INCLUDE).strip()) if line.startswith(_INCLUDE) else line
        for line in lines
    ]
    return "\n".join(expanded) + "\n"


@functools.cache
def _script(relative_path: str) -> Script:
    return get_redis().register_script(script_source(relative_path))


def script_call(pipe: Pipeline, relative_path: str, *, keys: list[str], args: list[Any]) -> None:
    """Queue the Lua script ``apps/<relative_path>`` on ``pipe`` (a data-Redis pipeline):
    many calls in one round trip; the pipeline loads the script if Redis lost it."""
    _script(relative_path)(keys=keys, args=args, client=pipe)


def run_script(relative_path: str, *, keys: list[str], args: list[Any]) -> Any:
    """Run the Lua script ``apps/<relative_path>`` on the data Redis, in one round trip.

    Every hot-path request runs one script, so its EVALSHA goes to a pooled connection as
    redis-py's execute_command sends a command (under the breaker, with the connection's
    Retry: a stale connection is dropped and the command sent again on a new one) but
    without the layers around it (Script, the evalsha wrappers, the observability hooks),
    which callgrind counted at 67,000 instructions of a /sms/receive request. When Redis
    has lost the script (a restart), redis-py's Script loads it and runs it again, so
    callers never see NOSCRIPT.
    """
    script = _script(relative_path)
    client = get_redis()
    try:
        return data_breaker().guarded(_evalsha, client.connection_pool, script.sha, keys, args)
    except redis.exceptions.NoScriptError:
        return script(keys=keys, args=args, client=client)


def _evalsha(pool: redis.ConnectionPool, sha: str, keys: list[str], args: list[Any]) -> Any:
    connection = pool.get_connection()
    try:
        return connection.retry.call_with_retry(
            lambda: _sent(connection, "EVALSHA", sha, len(keys), *keys, *args), connection.disconnect
        )
    finally:
        pool.release(connection)


def _sent(connection: Any, *command: Any) -> Any:
    connection.send_command(*command)
    return connection.read_response()
