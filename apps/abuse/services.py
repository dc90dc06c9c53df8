"""Blacklist changes: Redis at once (the hot path reads it), PostgreSQL through the queue."""

import json
import time
import uuid

from apps.core import keys
from apps.core.phone import Mobile
from apps.core.redis import get_redis


def _action(action: str, mobile: Mobile, *, source: str, reason: str, actor: str) -> str:
    return json.dumps(
        {
            "event_id": uuid.uuid4().hex,
            "action": action,
            "mobile": mobile.key,
            "country_code": str(mobile.country_code),
            "source": source,
            "reason": reason,
            "actor": actor,
            "created_at": time.time(),
        }
    )


def blacklist_add(*, mobile: Mobile, source: str, reason: str = "", actor: str = "") -> bool:
    """Blacklist ``mobile``; its pending hash goes too. True when it was not listed before."""
    with get_redis().pipeline(transaction=True) as pipe:
        pipe.sadd(keys.blacklist_mobiles(), mobile.key)
        pipe.delete(keys.onboard_hash(mobile.key))
        pipe.lpush(keys.blacklist_queue(), _action("add", mobile, source=source, reason=reason, actor=actor))
        added, _, _ = pipe.execute()
    return bool(added)


def blacklist_remove(*, mobile: Mobile, source: str, reason: str = "", actor: str = "") -> bool:
    with get_redis().pipeline(transaction=True) as pipe:
        pipe.srem(keys.blacklist_mobiles(), mobile.key)
        pipe.lpush(
            keys.blacklist_queue(), _action("remove", mobile, source=source, reason=reason, actor=actor)
        )
        removed, _ = pipe.execute()
    return bool(removed)
