"""The one owner of Redis connection pools, one pool per role (data, broker, results, cache).

Timeouts are short on purpose: the hot path must answer 503 quickly when Redis is
down rather than hang a web worker.
"""

import functools
from pathlib import Path
from typing import Any, Literal

import redis
from django.conf import settings
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


def get_redis(role: Role = "data") -> redis.Redis:
    """The process's client for ``role``: built once, since building one copies redis-py's
    response-callback table (about a tenth of a register request when done per call)."""
    return _client(role, _url(role))


@functools.cache
def _client(role: Role, url: str) -> redis.Redis:
    return redis.Redis(connection_pool=_pool(role, url))


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


def run_script(relative_path: str, *, keys: list[str], args: list[Any]) -> Any:
    """Run the Lua script ``apps/<relative_path>`` on the data Redis, in one round trip.

    redis-py's Script sends EVALSHA and loads the script again when Redis has lost it
    (a restart), so callers never see NOSCRIPT.
    """
    return _script(relative_path)(keys=keys, args=args, client=get_redis())
