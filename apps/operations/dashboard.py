"""Read-only figures for the operator dashboard (/admin/dashboard/).

Queue depths, lag and dead letters, callbacks, verdicts per hour, blacklist growth,
worker heartbeat and Redis health. Key families are counted with SCAN, never KEYS
(which blocks Redis for the whole keyspace and so the hot path with it), in one pass
under a time budget: on a very large keyspace the counts are a lower bound and say so,
rather than the page keeping a Redis connection busy for seconds.

Later features add their own panels (``apps.core.registry.dashboard_panel_register``,
from their AppConfig.ready(), so no app imports this floor) instead of editing this
module: the blocked prefixes and notifications are meant to come that way.
"""

import os
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import redis
from django.conf import settings
from django.db.models import Count, Min, Q
from django.db.models.functions import TruncDate, TruncHour
from django.utils import timezone
from django.utils.safestring import SafeString

from apps.abuse.models import BlacklistAction
from apps.audit.models import MonitorEvent
from apps.clients.models import CallbackDelivery
from apps.core import keys
from apps.core.broker import celery_queue_lengths
from apps.core.health import background_workers_status
from apps.core.redis import get_redis
from apps.core.registry import Panel, dashboard_panels
from apps.core.registry import dashboard_panel_register as dashboard_panel_register
from apps.core.registry import dashboard_panel_unregister as dashboard_panel_unregister
from apps.core.selectors import QueueStats, heartbeat_age, queue_stats

from .charts import verdicts_chart

VERDICTS = ("valid", "invalid")
SCAN_PAGE = 1000
SCAN_BUDGET_SECONDS = 1.0
_MARK = "\x00"  # cut a key name at its first variable part to get the family's prefix


@dataclass(frozen=True)
class HourlyVerdicts:
    hour: datetime
    valid: int
    invalid: int


@dataclass(frozen=True)
class DailyBlacklist:
    day: date
    added: int
    removed: int


@dataclass(frozen=True)
class KeyFamily:
    pattern: str
    count: int


@dataclass(frozen=True)
class RedisStats:
    version: str
    used_memory_human: str
    ops_per_sec: int
    hit_rate: float | None  # keyspace_hits / (hits + misses); None before any lookup
    connected_clients: int
    total_keys: int
    verified_numbers: int
    blacklisted_numbers: int
    families: list[KeyFamily]
    families_complete: bool  # False: the SCAN ran out of time, counts are lower bounds


@dataclass(frozen=True)
class CallbackStats:
    pending: int  # waiting for an attempt, first or retry
    retrying: int  # of those, the ones that failed at least once
    failed: int  # out of attempts, waiting for an operator
    oldest_pending_at: datetime | None
    celery_queue: int | None  # messages on the "callbacks" Celery queue; None: broker unreachable


@dataclass(frozen=True)
class Dashboard:
    queues: list[QueueStats]
    celery_queues: dict[str, int]
    heartbeat_age: float | None
    heartbeat_stale: bool
    workers: str  # background_workers of /health: running, starting, stale, ...
    callbacks: CallbackStats
    verdicts: list[HourlyVerdicts]
    verdict_peak: int
    verdicts_chart: SafeString
    blacklist: list[DailyBlacklist]
    blacklist_peak: int
    redis: RedisStats | None
    redis_error: str
    panels: list[Panel]


def dashboard_get() -> Dashboard:
    """Everything the page shows; Redis being down blanks its parts, not the page."""
    verdicts = verdicts_per_hour()
    blacklist = blacklist_per_day()
    try:
        queues, age, stats = queue_stats(), heartbeat_age(), redis_stats()
        celery_queues = celery_queue_lengths()
    except redis.RedisError as exc:
        queues, age, stats, celery_queues, error = [], None, None, {}, f"Redis is unreachable: {exc}"
    else:
        error = ""
    return Dashboard(
        queues=queues,
        celery_queues=celery_queues,
        heartbeat_age=age,
        heartbeat_stale=age is None or age > settings.HEARTBEAT_STALE_AFTER,
        workers=background_workers_status(),
        callbacks=callback_stats(celery_queue=celery_queues.get("callbacks")),
        verdicts=verdicts,
        verdict_peak=max((v.valid + v.invalid for v in verdicts), default=0),
        verdicts_chart=verdicts_chart(hours=verdicts, zone=timezone.get_current_timezone_name()),
        blacklist=blacklist,
        blacklist_peak=max((b.added for b in blacklist), default=0),
        redis=stats,
        redis_error=error,
        panels=dashboard_panels(),
    )


def callback_stats(*, celery_queue: int | None = None) -> CallbackStats:
    """Deliveries pending (and how many of them are retrying) and failed, in one query."""
    pending, failed = CallbackDelivery.Status.PENDING, CallbackDelivery.Status.FAILED
    totals = CallbackDelivery.objects.filter(status__in=[pending, failed]).aggregate(
        pending=Count("id", filter=Q(status=pending)),
        retrying=Count("id", filter=Q(status=pending, attempts__gt=0)),
        failed=Count("id", filter=Q(status=failed)),
        oldest_pending_at=Min("created_at", filter=Q(status=pending)),
    )
    return CallbackStats(celery_queue=celery_queue, **totals)


def verdicts_per_hour(*, hours: int = 24, now: datetime | None = None) -> list[HourlyVerdicts]:
    """Valid and invalid verdicts in each of the last ``hours`` hours, oldest first."""
    # Local hours, as TruncHour buckets them (a zone may be offset by half an hour).
    end = timezone.localtime(now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=hours - 1)
    rows = (
        MonitorEvent.objects.filter(occurred_at__gte=start, status__in=VERDICTS)
        .annotate(hour=TruncHour("occurred_at"))
        .order_by()
        .values_list("hour", "status")
        .annotate(n=Count("id"))
    )
    counts = {(hour, status): n for hour, status, n in rows}
    slots = [start + timedelta(hours=i) for i in range(hours)]
    return [HourlyVerdicts(s, counts.get((s, "valid"), 0), counts.get((s, "invalid"), 0)) for s in slots]


def blacklist_per_day(*, days: int = 14, now: datetime | None = None) -> list[DailyBlacklist]:
    """Numbers blacklisted and released on each of the last ``days`` days, oldest first."""
    today = timezone.localdate(now or timezone.now())
    start = today - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(start, datetime.min.time()))
    rows = (
        BlacklistAction.objects.filter(occurred_at__gte=since)
        .annotate(day=TruncDate("occurred_at"))
        .order_by()
        .values_list("day", "action")
        .annotate(n=Count("id"))
    )
    counts = {(day, action): n for day, action, n in rows}
    slots = [start + timedelta(days=i) for i in range(days)]
    return [DailyBlacklist(d, counts.get((d, "add"), 0), counts.get((d, "remove"), 0)) for d in slots]


def redis_stats(*, scan_budget_seconds: float = SCAN_BUDGET_SECONDS) -> RedisStats:
    r = get_redis()
    info = r.info()
    hits, misses = int(info.get("keyspace_hits", 0)), int(info.get("keyspace_misses", 0))
    with r.pipeline(transaction=False) as pipe:
        pipe.dbsize()
        pipe.scard(keys.out_sms_numbers())
        pipe.scard(keys.blacklist_mobiles())
        total, verified, blacklisted = pipe.execute()
    families, complete = key_family_counts(budget_seconds=scan_budget_seconds)
    return RedisStats(
        version=str(info.get("redis_version", "")),
        used_memory_human=str(info.get("used_memory_human", "")),
        ops_per_sec=int(info.get("instantaneous_ops_per_sec", 0)),
        hit_rate=hits / (hits + misses) if hits + misses else None,
        connected_clients=int(info.get("connected_clients", 0)),
        total_keys=int(total),
        verified_numbers=int(verified),
        blacklisted_numbers=int(blacklisted),
        families=families,
        families_complete=complete,
    )


def key_families() -> dict[str, str]:
    """Display pattern -> key prefix; the prefixes come from ``keys``, the one source of names."""
    rates = [keys.register_client_rate(_MARK), keys.register_number_rate(_MARK)]
    families = {
        "onboard_hash:*": keys.onboard_hash(_MARK),
        "onboard_regs:*": keys.onboard_regs(_MARK),
        "abuse_counter:*": keys.abuse_counter(_MARK),
        "sms_dedupe:*": keys.sms_dedupe(_MARK, ""),
        "rate:*": os.path.commonprefix(rates),  # noqa: RUF071 - key names: a character-wise prefix
    }
    return {pattern: name.partition(_MARK)[0] for pattern, name in families.items()}


def key_family_counts(*, budget_seconds: float = SCAN_BUDGET_SECONDS) -> tuple[list[KeyFamily], bool]:
    """Keys per family in one SCAN pass; the flag is False when the budget cut it short."""
    prefixes = key_families()
    counts = dict.fromkeys(prefixes, 0)
    r = get_redis()
    deadline = time.monotonic() + budget_seconds
    match = f"{settings.REDIS_KEY_PREFIX}*" if settings.REDIS_KEY_PREFIX else None
    cursor: int = 0
    while True:
        cursor, page = r.scan(cursor=cursor, match=match, count=SCAN_PAGE)
        for key in page:
            pattern = next((p for p, prefix in prefixes.items() if str(key).startswith(prefix)), None)
            if pattern is not None:
                counts[pattern] += 1
        if cursor == 0 or time.monotonic() > deadline:
            families = [KeyFamily(pattern, n) for pattern, n in counts.items()]
            return families, cursor == 0
