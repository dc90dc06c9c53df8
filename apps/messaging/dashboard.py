"""The notifications panel of the operator dashboard, and the figures bridge_status prints.

Everything comes from Redis (the queue, the retry schedule, the per-gateway counters the
status script keeps), so the panel shows the live state, not the store's copy; the
gateways' names are the one read from PostgreSQL.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

import redis

from apps.core import keys
from apps.core.metrics import notification_queue_lag
from apps.core.queues import queue_depth
from apps.core.redis import get_redis
from apps.core.registry import Panel
from apps.inbound.models import Gateway

TEMPLATE = "messaging/dashboard_panel.html"
FAILED_OUTCOMES = ("rejected", "failed", "undelivered")
NO_GATEWAY = "none (no route, or out of attempts)"


@dataclass(frozen=True)
class GatewayOutcomes:
    """Sends through one gateway that ended in each outcome, since Redis began counting."""

    gateway_id: str
    name: str
    counts: dict[str, int] = field(default_factory=dict)  # sent, error, rejected, failed, delivered, ...

    @property
    def sent(self) -> int:
        return self.counts.get("sent", 0)

    @property
    def failed(self) -> int:
        """Ended ``failed`` through this gateway: refused for good, failed, or reported undelivered."""
        return sum(self.counts.get(outcome, 0) for outcome in FAILED_OUTCOMES)

    @property
    def delivered(self) -> int:
        return self.counts.get("delivered", 0)


@dataclass(frozen=True)
class NotificationStats:
    queued: int  # waiting plus claimed by a sender and not finished
    retries_scheduled: int  # waiting for their next attempt (notification_retry)
    lag_seconds: float  # age of the oldest notification waiting; 0 when none waits
    gateways: list[GatewayOutcomes]


def notification_stats() -> NotificationStats:
    queue = keys.notification_queue()
    with get_redis().pipeline(transaction=False) as pipe:
        pipe.zcard(keys.notification_retry())
        pipe.hgetall(keys.metrics_notifications())
        retries, counters = pipe.execute()
    return NotificationStats(
        queued=queue_depth(queue),
        retries_scheduled=int(retries),
        lag_seconds=notification_queue_lag(),  # the figure /metrics reports, read the same way
        gateways=gateway_outcomes(counters),
    )


def gateway_outcomes(counters: dict[str, str]) -> list[GatewayOutcomes]:
    """The ``"{gateway_id}:{outcome}"`` counters per gateway, by gateway name."""
    counts: dict[str, dict[str, int]] = {}
    for name, value in counters.items():
        gateway_id, _, outcome = str(name).rpartition(":")
        counts.setdefault(gateway_id, {})[outcome] = int(value)
    names = _gateway_names(counts)
    found = [GatewayOutcomes(g, names.get(g) or _unknown(g), c) for g, c in counts.items()]
    return sorted(found, key=lambda outcomes: outcomes.name.lower())


def _gateway_names(gateway_ids: Iterable[str]) -> dict[str, str]:
    valid = [g for g in gateway_ids if _is_uuid(g)]
    rows = Gateway.objects.filter(pk__in=valid).values_list("id", "name")
    return {str(gateway_id): name for gateway_id, name in rows}


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _unknown(gateway_id: str) -> str:
    """A counter of no one gateway ("none": no route covered the destination, or every
    attempt failed) or of a gateway deleted since."""
    return f"unknown gateway {gateway_id[:8]}" if gateway_id not in ("", "none") else NO_GATEWAY


def notifications_panel() -> Panel:
    """The dashboard's panel; Redis being down shows a notice in it, not an error page."""
    try:
        stats, error = notification_stats(), ""
    except redis.RedisError as exc:
        stats, error = None, f"Redis is unreachable: {exc}"
    return Panel(title="Notifications", template=TEMPLATE, context={"stats": stats, "error": error})
