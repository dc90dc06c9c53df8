"""Read-only views of the dead-letter lists (``<queue>:dead``), for the admin.

A drain pushes an item that failed on its own there, as the original JSON, newest at
the head of the list. Nothing here changes them: replaying is a separate operator
action.
"""

import json
import math
from dataclasses import dataclass
from typing import Any

from apps.core import keys
from apps.core.redis import get_redis
from apps.core.selectors import queues

PER_PAGE = 50
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
