"""Every change of a notification's status goes through ``notification_change``.

One Lua call moves the live record in Redis forward (never backwards, never out of
delivered or failed), queues the change for PostgreSQL, remembers the provider's
message id for its delivery receipts, counts the outcome for /metrics and, for sent,
delivered and failed, appends the event to the client's history: no other code may
set those statuses, or the history would miss them.
"""

from dataclasses import dataclass

from apps.core import keys
from apps.core.history import history_lua_args
from apps.core.redis import get_redis, run_script

SENDER = "sender"
RECEIPT = "receipt"
ERROR_MAX = 500  # characters of a provider's error kept


@dataclass(frozen=True)
class Change:
    applied: bool
    seq: int
    client_id: str
    channel: str
    status: str  # the status now (the old one when the change was refused)


def notification_change(
    *,
    notification_id: str,
    status: str,
    by: str = SENDER,
    attempts: int | None = None,
    last_error: str | None = None,
    gateway_id: str = "",
    provider_id: str = "",
    metric: str = "",
) -> Change:
    """Apply one change; ``last_error=None`` keeps the last error, ``""`` clears it."""
    reference = (
        keys.notification_ref(gateway_id, provider_id) if provider_id else keys.notification_ref("-", "-")
    )
    applied, seq, client_id, channel, now = run_script(
        "messaging/lua/notification_change.lua",
        keys=[
            keys.notification(notification_id),
            keys.notification_events(),
            keys.metrics_notifications(),
            reference,
            keys.event_feed(),
        ],
        args=[
            status,
            by,
            "" if attempts is None else attempts,
            (last_error or "")[:ERROR_MAX],
            gateway_id,
            provider_id,
            metric,
            keys.NOTIFICATION_TTL,
            0 if last_error is None else 1,
            notification_id,
            *history_lua_args(),
        ],
    )
    return Change(bool(applied), int(seq), str(client_id), str(channel), str(now))


def notification_for_provider_id(*, gateway_id: str, provider_id: str) -> str | None:
    """The notification a delivery receipt is about, from the provider's message id."""
    found = get_redis().get(keys.notification_ref(gateway_id, provider_id))
    return str(found) if found else None
