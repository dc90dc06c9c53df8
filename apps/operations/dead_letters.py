"""The dead-letter lists (``<queue>:dead``): read for the admin, replayed or purged by
``manage.py dead_letters``.

A drain pushes an item that failed on its own there, as the original JSON, newest at
the head of the list. A replay moves the oldest items back onto their queue with one
LMOVE each inside a Lua script (lua/dead_letters_replay.lua): never in two places, never
in none. A purge removes exactly the items the operator counted, oldest first, so one
that failed meanwhile is kept.
"""

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from apps.core import keys
from apps.core.exceptions import ApplicationError
from apps.core.redis import get_redis, run_script
from apps.core.selectors import queues

PER_PAGE = 50
REPLAY_CHUNK = 500  # items per Lua call: a short block of Redis, progress between calls
# Fields that say what an item is, shown in its summary line when present.
SUMMARY_FIELDS = ("event_id", "status", "action", "source", "sms_uuid", "mobile", "created_at", "queued_at")


@dataclass(frozen=True)
class DeadLetter:
    position: int  # 0 = the newest
    raw: str
    pretty: str  # indented JSON, or the raw text when it is not JSON
    summary: dict[str, Any]


@dataclass(frozen=True)
class DeadLetterPage:
    queue: str  # the short name: inbound, monitor, blacklist, out_sms
    key: str  # the Redis list
    total: int
    page: int
    pages: int
    items: list[DeadLetter]


def dead_letter_counts() -> dict[str, int]:
    """Short queue name -> items in its dead-letter list (raises redis.RedisError)."""
    names = queues()
    with get_redis().pipeline(transaction=False) as pipe:
        for queue in names.values():
            pipe.llen(keys.dead_letter(queue))
        counts = pipe.execute()
    return dict(zip(names, (int(n) for n in counts), strict=True))


def dead_letter_page(*, queue: str, page: int = 1, per_page: int = PER_PAGE) -> DeadLetterPage:
    """One page of ``queue``'s dead letters, newest first; KeyError for an unknown queue."""
    key = keys.dead_letter(queues()[queue])
    r = get_redis()
    total = int(r.llen(key))
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    start = (page - 1) * per_page
    raw_items = r.lrange(key, start, start + per_page - 1)
    items = [_dead_letter(start + offset, str(raw)) for offset, raw in enumerate(raw_items)]
    return DeadLetterPage(queue=queue, key=key, total=total, page=page, pages=pages, items=items)


def _dead_letter(position: int, raw: str) -> DeadLetter:
    try:
        value = json.loads(raw)
    except ValueError:
        return DeadLetter(position, raw, raw, {})
    summary = {f: value[f] for f in SUMMARY_FIELDS if isinstance(value, dict) and f in value}
    return DeadLetter(position, raw, json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True), summary)


def dead_letter_queue_key(queue: str) -> str:
    """The Redis key of short queue name ``queue`` (ApplicationError for an unknown name)."""
    names = queues()
    if queue not in names:
        raise ApplicationError(
            f"Unknown queue {queue!r}; choose one of {', '.join(names)}.", code="unknown_queue"
        )
    return names[queue]


def dead_letter_item(*, queue: str, position: int) -> DeadLetter | None:
    """The dead letter at ``position`` (0 = the newest) of ``queue``, or None."""
    raw = get_redis().lindex(keys.dead_letter(dead_letter_queue_key(queue)), position)
    return None if raw is None else _dead_letter(position, str(raw))


def dead_letters_replay(*, queue: str, limit: int | None = None, chunk: int = REPLAY_CHUNK) -> Iterator[int]:
    """Move ``queue``'s dead letters (at most ``limit``), oldest first, back onto the queue,
    where its drain takes them again; yields the running count after each chunk."""
    key = dead_letter_queue_key(queue)
    moved = 0
    while limit is None or moved < limit:
        step = chunk if limit is None else min(chunk, limit - moved)
        done = int(
            run_script(
                "operations/lua/dead_letters_replay.lua", keys=[keys.dead_letter(key), key], args=[step]
            )
        )
        moved += done
        if done:
            yield moved
        if done < step:
            return


def dead_letters_purge(*, queue: str, count: int) -> int:
    """Delete the ``count`` oldest dead letters of ``queue`` (those the operator was shown);
    returns how many were there to delete."""
    dead = keys.dead_letter(dead_letter_queue_key(queue))
    r = get_redis()
    with r.pipeline(transaction=True) as pipe:
        pipe.llen(dead)
        pipe.ltrim(dead, 0, -count - 1)
        present, _ = pipe.execute()
    return min(int(present), count)
