"""A Redis HASH mirror of credential rows in PostgreSQL, for lookups without SQL.

The hot path authenticates from Redis (one HGET, remembered in-process for
CREDENTIAL_LOCAL_CACHE_SECONDS). When the HASH is missing altogether, Redis has lost
its data: the mirror is rebuilt from PostgreSQL once, then Redis serves again.
A sentinel field keeps an empty mirror distinguishable from a lost one.
"""

import time
from collections.abc import Callable

from django.conf import settings
from django.db import transaction

from .redis import get_redis

LOADED_SENTINEL = "__loaded__"


class RedisDirectory:
    def __init__(self, key: Callable[[], str], load: Callable[[], dict[str, str]]) -> None:
        self._key = key
        self._load = load
        self._local: dict[str, tuple[str, float]] = {}

    def get(self, field: str) -> str | None:
        now = time.monotonic()
        hit = self._local.get(field)
        if hit and now - hit[1] < settings.CREDENTIAL_LOCAL_CACHE_SECONDS:
            return hit[0]
        with get_redis().pipeline(transaction=False) as pipe:
            pipe.hget(self._key(), field)
            pipe.exists(self._key())
            value, exists = pipe.execute()
        if value is None and not exists:
            value = self.rebuild().get(field)
        if value is not None:
            self._local[field] = (value, now)
        return value

    def rebuild(self) -> dict[str, str]:
        mapping = self._load()
        with get_redis().pipeline(transaction=True) as pipe:
            pipe.delete(self._key())
            pipe.hset(self._key(), mapping={LOADED_SENTINEL: "1", **mapping})  # type: ignore[dict-item]
            pipe.execute()
        return mapping

    def put_on_commit(self, field: str, value: str) -> None:
        transaction.on_commit(lambda: get_redis().hset(self._key(), field, value))

    def delete_on_commit(self, field: str) -> None:
        self._local.pop(field, None)
        transaction.on_commit(lambda: get_redis().hdel(self._key(), field))

    def forget_local(self) -> None:
        self._local.clear()
