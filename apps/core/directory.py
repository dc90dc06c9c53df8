"""A Redis HASH mirror of credential rows in PostgreSQL, for lookups without SQL.

The hot path authenticates from Redis (one round trip, its parsed answer remembered
in-process for CREDENTIAL_LOCAL_CACHE_SECONDS, so a change reaches every process
within that time). When the HASH is missing altogether, Redis has lost its data: the
mirror is rebuilt from PostgreSQL once, then Redis serves again. (A HASH that a write
re-created after the loss holds only that write until the repair task rebuilds it.)
A sentinel field keeps an empty mirror distinguishable from a lost one.

A mirror may also name a ``fallback``: one field read from PostgreSQL when Redis is not
serving. The gateway mirrors do, so the receive endpoints can still authenticate a
delivery and keep it in the inbound outbox during a Redis outage.

Services change the mirror together with the database (after the commit). A rebuild
must not undo a change made while it read PostgreSQL, or a revoked credential would
come back: it registers itself first, every change is then also recorded for it, and
it builds the new HASH aside and renames it over the live one after replaying those
changes, in one atomic step (lua/directory_finish.lua).
"""

import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

from django.conf import settings
from django.db import DatabaseError, transaction

from . import keys
from .redis import REDIS_DOWN_ERRORS, get_redis, run_script

LOADED_SENTINEL = "__loaded__"
WRITE_CHUNK = 5000  # fields per HSET while rebuilding: bounded command size

T = TypeVar("T")


class RedisDirectory(Generic[T]):
    def __init__(
        self,
        key: Callable[[], str],
        load: Callable[[], dict[str, str]],
        *,
        parse: Callable[[str, str], T | None],
        fallback: Callable[[str], str | None] | None = None,
    ) -> None:
        self._key = key
        self._load = load
        self._parse = parse  # (field, stored value) -> what callers use; cached, so run once
        self._fallback = fallback  # field -> stored value from PostgreSQL, while Redis is down
        self._local: dict[str, tuple[T, float]] = {}

    def get(self, field: str, *, fresh: bool = False) -> T | None:
        """The value of ``field``; ``fresh`` skips this process's copy (a credential that
        fails against the copy may be newer than it)."""
        now = time.monotonic()
        hit = self._local.get(field)
        if hit and not fresh and now - hit[1] < settings.CREDENTIAL_LOCAL_CACHE_SECONDS:
            return hit[0]
        try:
            with get_redis().pipeline(transaction=False) as pipe:
                pipe.hget(self._key(), field)
                pipe.exists(self._key())
                raw, exists = pipe.execute()
        except REDIS_DOWN_ERRORS as exc:
            if self._fallback is None:
                raise
            try:
                raw, exists = self._fallback(field), True
            except DatabaseError:
                raise exc from None  # both stores down: the caller's Redis error (503)
        if raw is None and not exists:
            raw = self.rebuild().get(field)
        value = None if raw is None else self._parse(field, str(raw))
        if value is None:
            self._local.pop(field, None)
        else:
            self._local[field] = (value, now)
        return value

    def rebuild(self) -> dict[str, str]:
        """Replace the mirror with what PostgreSQL holds now; returns the mapping loaded."""
        live = self._key()
        index = keys.directory_rebuilds(live)
        rebuild_id = uuid.uuid4().hex
        r = get_redis()
        r.zremrangebyscore(index, "-inf", time.time())  # rebuilds that died half-way
        r.zadd(index, {rebuild_id: time.time() + keys.DIRECTORY_REBUILD_TTL})
        try:
            mapping = self._load()  # after registering: later changes are recorded for us
            aside = keys.directory_rebuild_aside(live, rebuild_id)
            self._write_aside(aside, mapping)
            changes = keys.directory_rebuild_changes(live, rebuild_id)
            run_script("core/lua/directory_finish.lua", keys=[aside, changes, live, index], args=[rebuild_id])
        finally:
            r.zrem(index, rebuild_id)
        self.forget_local()
        return mapping

    def _write_aside(self, aside: str, mapping: dict[str, str]) -> None:
        with get_redis().pipeline(transaction=False) as pipe:
            pipe.delete(aside)
            for chunk in _chunks({LOADED_SENTINEL: "1", **mapping}):
                pipe.hset(aside, mapping=chunk)  # type: ignore[arg-type]
            pipe.expire(aside, keys.DIRECTORY_REBUILD_TTL)
            pipe.execute()

    def put_on_commit(self, field: str, value: str) -> None:
        self.change_on_commit(put={field: value})

    def delete_on_commit(self, field: str) -> None:
        self.change_on_commit(delete=[field])

    def change_on_commit(self, *, put: dict[str, str] | None = None, delete: Iterable[str] = ()) -> None:
        """Set ``put`` and remove ``delete`` once the surrounding transaction commits."""
        puts = dict(put or {})
        deletes = [field for field in delete if field not in puts]
        if puts or deletes:
            transaction.on_commit(lambda: self.change_now(put=puts, delete=deletes))

    def change_now(self, *, put: dict[str, str], delete: list[str]) -> None:
        live = self._key()
        r = get_redis()
        # Read the rebuilds under way before writing: one that starts later reads
        # PostgreSQL after this change was committed, so it needs no record of it.
        rebuilds = r.zrangebyscore(keys.directory_rebuilds(live), time.time(), "+inf")
        record = {**{f: "+" + v for f, v in put.items()}, **dict.fromkeys(delete, "-")}
        with r.pipeline(transaction=True) as pipe:
            for rebuild_id in rebuilds:
                changes = keys.directory_rebuild_changes(live, str(rebuild_id))
                pipe.hset(changes, mapping=record)  # type: ignore[arg-type]
                pipe.expire(changes, keys.DIRECTORY_REBUILD_TTL)
            if put:
                pipe.hset(live, mapping=put)  # type: ignore[arg-type]
            if delete:
                pipe.hdel(live, *delete)
            pipe.execute()
        for field in (*put, *delete):
            self._local.pop(field, None)

    def forget_local(self) -> None:
        self._local.clear()


def _chunks(mapping: dict[str, str]) -> Iterator[dict[str, str]]:
    items = list(mapping.items())
    for start in range(0, len(items), WRITE_CHUNK):
        yield dict(items[start : start + WRITE_CHUNK])
