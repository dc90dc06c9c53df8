"""The event history: every event the bridge makes, in Redis streams.

Each event is appended in the same round trip (Lua script or MULTI) as the change it
reports, so the history never tells of a change that did not happen, nor misses one that
did. It goes to the operators' feed (``event_feed``, every event, with the client ids it
belongs to) and to the stream of each client it belongs to (``event_history:{client_id}``),
so a client's read touches only its own stream: it cannot see another client's events,
and reading is one XRANGE, no SQL. Both streams are trimmed to a length (settings).

An entry has the fields ``t`` (type), ``d`` (the event's data, JSON) and, in the feed, ``c``
(comma-separated client ids). Its id is the stream's own (``<ms>-<seq>``), which also gives
the time; ``after`` and ``Last-Event-ID`` take these ids.
"""

import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import redis
from django.conf import settings
from redis.client import Pipeline

from . import keys
from .redis import REDIS_DOWN_ERRORS, follower_redis, get_redis

# The event types (``type`` of an event, the SSE ``event:`` line).
REGISTRATION_OPENED = "registration.opened"
REGISTRATION_EXPIRED = "registration.expired"
SMS_RECEIVED = "sms.received"
SMS_JUDGED = "sms.judged"
NUMBER_VERIFIED = "number.verified"
OTP_REQUESTED = "otp.requested"
OTP_VERIFIED = "otp.verified"
OTP_FAILED = "otp.failed"
OTP_BLOCKED = "otp.blocked"
NOTIFICATION_SENT = "notification.sent"
NOTIFICATION_DELIVERED = "notification.delivered"
NOTIFICATION_FAILED = "notification.failed"
BLACKLIST_ADDED = "blacklist.added"
BLACKLIST_REMOVED = "blacklist.removed"

EVENT_TYPES = (
    REGISTRATION_OPENED,
    REGISTRATION_EXPIRED,
    SMS_RECEIVED,
    SMS_JUDGED,
    NUMBER_VERIFIED,
    OTP_REQUESTED,
    OTP_VERIFIED,
    OTP_FAILED,
    OTP_BLOCKED,
    NOTIFICATION_SENT,
    NOTIFICATION_DELIVERED,
    NOTIFICATION_FAILED,
    BLACKLIST_ADDED,
    BLACKLIST_REMOVED,
)

# A stream entry id: milliseconds, optionally "-" and a sequence number. "0" is before all.
_EVENT_ID = re.compile(r"^(\d{1,15})(?:-(\d{1,19}))?$")


def event_id_parse(value: str) -> str:
    """``value`` as a full stream id (``<ms>-<seq>``); ValueError when it is not one."""
    found = _EVENT_ID.match(value.strip())
    if not found:
        raise ValueError("not an event id: expected <milliseconds>-<sequence>, such as 1733050000000-0")
    return f"{int(found.group(1))}-{int(found.group(2) or 0)}"


def _id_key(event_id: str) -> tuple[int, int]:
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq or 0)


@dataclass(frozen=True)
class Event:
    """One event of the history, as read back from a stream."""

    id: str
    type: str
    data: dict[str, Any]
    client_ids: tuple[str, ...] = field(default=())

    @property
    def occurred_at(self) -> datetime:
        return datetime.fromtimestamp(_id_key(self.id)[0] / 1000, tz=UTC)

    def to_dict(self, *, with_clients: bool = False) -> dict[str, Any]:
        """The event as the API shows it: ``{id, type, occurred_at, data}``."""
        shown: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "occurred_at": self.occurred_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "data": self.data,
        }
        if with_clients:
            shown["client_ids"] = list(self.client_ids)
        return shown


def _event(entry_id: str, fields: Mapping[str, str]) -> Event:
    try:
        data = orjson.loads(fields.get("d", "{}"))
    except orjson.JSONDecodeError:
        data = {}
    clients = tuple(c for c in fields.get("c", "").split(",") if c)
    return Event(id=entry_id, type=fields.get("t", ""), data=data, client_ids=clients)


# --- writing ---------------------------------------------------------------------------
def history_lua_args() -> list[Any]:
    """The ARGV a script passes to ``event_append`` besides the event itself, in order:
    the client-stream prefix, the feed's length and a client stream's length. The feed's
    key goes in KEYS (``keys.event_feed()``)."""
    return [keys.event_history(""), settings.EVENT_FEED_LENGTH, settings.EVENT_HISTORY_LENGTH]


def event_json(data: Mapping[str, Any]) -> str:
    """An event's data as the JSON string a script appends."""
    return orjson.dumps(data).decode()


def history_append(
    pipe: Pipeline, kind: str, data: Mapping[str, Any], client_ids: Iterable[str] = ()
) -> None:
    """Queue the appends of one event on ``pipe`` (a MULTI pipeline that makes the change),
    as ``event_append`` does in Lua."""
    clients = [c for c in client_ids if c]
    encoded = event_json(data)
    pipe.xadd(
        keys.event_feed(),
        {"t": kind, "c": ",".join(clients), "d": encoded},
        maxlen=settings.EVENT_FEED_LENGTH,
        approximate=True,
    )
    for client_id in clients:
        pipe.xadd(
            keys.event_history(client_id),
            {"t": kind, "d": encoded},
            maxlen=settings.EVENT_HISTORY_LENGTH,
            approximate=True,
        )


# --- reading ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Page:
    """Events after an id, oldest first. ``truncated``: events after ``after`` were
    trimmed away before they could be read (the reader fell too far behind)."""

    events: list[Event]
    has_more: bool
    truncated: bool


def _truncated(info: Any, after: str) -> bool:
    """Whether trimming may have removed events after ``after``: something was removed
    and ``after`` is older than the oldest kept entry. (Conservative: it is also said when
    the reader's own last event was the newest one trimmed, since stream ids have gaps.)"""
    if not isinstance(info, dict):  # no stream yet: nothing was ever trimmed
        return False
    if int(info.get("entries-added") or 0) <= int(info.get("length") or 0):
        return False
    first = info.get("recorded-first-entry-id") or (info.get("first-entry") or ("0-0",))[0]
    return _id_key(after) < _id_key(str(first))


def history_page(stream: str, after: str, limit: int) -> Page:
    """Up to ``limit`` events of ``stream`` after the id ``after`` (exclusive), one round trip."""
    with get_redis().pipeline(transaction=False) as pipe:
        pipe.xrange(stream, min=f"({after}", max="+", count=limit + 1)
        pipe.xinfo_stream(stream)
        entries, info = pipe.execute(raise_on_error=False)
    if isinstance(entries, Exception):
        raise entries
    events = [_event(entry_id, fields) for entry_id, fields in entries[:limit]]
    return Page(events=events, has_more=len(entries) > limit, truncated=_truncated(info, after))


def history_last_id(stream: str) -> str:
    """The id of the newest event of ``stream`` ("0-0" when it has none): following from
    it gives only the events still to come."""
    newest: Any = get_redis().xrevrange(stream, count=1)
    return newest[0][0] if newest else "0-0"


def history_recent(stream: str, count: int) -> list[Event]:
    """The newest ``count`` events of ``stream``, newest first (the admin feed)."""
    entries: Any = get_redis().xrevrange(stream, count=count)
    return [_event(entry_id, fields) for entry_id, fields in entries]


def history_truncated(stream: str, after: str) -> bool:
    """Whether events of ``stream`` after ``after`` were trimmed away unread."""
    try:
        info = get_redis().xinfo_stream(stream)
    except redis.ResponseError:  # no such stream: nothing was trimmed
        return False
    return _truncated(info, after)


def history_follow(stream: str, after: str, *, until: float, wait: float) -> Iterator[list[Event]]:
    """The events of ``stream`` after ``after`` as they are appended, in batches, until
    the monotonic time ``until``; an empty batch after each ``wait`` seconds without one
    (the caller's cue to send a keep-alive). Ends quietly when Redis goes away: the
    reader resumes from the last id it got."""
    last = after
    while (left := until - time.monotonic()) > 0:
        try:
            found: Any = follower_redis().xread(
                {stream: last}, count=100, block=max(1, int(min(wait, left) * 1000))
            )
        except REDIS_DOWN_ERRORS:
            return
        entries = found[0][1] if found else []
        batch = [_event(entry_id, fields) for entry_id, fields in entries]
        if batch:
            last = batch[-1].id
        yield batch
