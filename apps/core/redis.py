"""The one owner of Redis connection pools, one pool per role (DESIGN.md "Redis").

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
    """A client on the shared pool of ``role`` (cheap: clients share the pool)."""
    return redis.Redis(connection_pool=_pool(role, _url(role)))


_SCRIPTS_DIR = Path(__file__).resolve().parent.parent


@functools.cache
def _script(relative_path: str) -> Script:
    source = (_SCRIPTS_DIR / relative_path).read_text()
    return get_redis().register_script(source)


def run_script(relative_path: str, *, keys: list[str], args: list[Any]) -> Any:
    """Run the Lua script ``apps/<relative_path>`` on the data Redis, in one round trip.

    redis-py's Script sends EVALSHA and loads the script again when Redis has lost it
    (a restart), so callers never see NOSCRIPT.
    """
    return _script(relative_path)(keys=keys, args=args, client=get_redis())
