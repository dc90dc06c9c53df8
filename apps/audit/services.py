"""The audit trail: drain monitor events from Redis into PostgreSQL, purge old rows."""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from apps.core import keys
from apps.core.bulk import insert_ignoring_conflicts
from apps.core.queues import Batch, batch_ack, queue_drain

from .models import MonitorEvent
from .payloads import MonitorEventRecord

FLUSH_LOCK = "monitor_flush"
COLUMNS = (
    "event_id",
    "occurred_at",
    "status",
    "reason",
    "mobile",
    "country_code",
    "sms_uuid",
    "gateway_id",
    "client_ids",
    "check_results",
    "recorded_at",
)


def monitor_flush(*, batch_size: int | None = None) -> int:
    """Move every queued monitor event into MonitorEvent, exactly once; returns the count."""
    return queue_drain(
        queue=keys.sms_monitor_queue(),
        lock=FLUSH_LOCK,
        sink=_monitor_sink,
        batch_size=batch_size or settings.DRAIN_BATCH_SIZE,
    )


def _monitor_sink(batch: Batch) -> int:
    now = timezone.now().isoformat()
    rows = [_row(MonitorEventRecord.from_json(item), now) for item in batch.items]
    insert_ignoring_conflicts(model=MonitorEvent, columns=COLUMNS, rows=rows)
    batch_ack(batch)
    return len(rows)


def _row(event: MonitorEventRecord, now: str) -> tuple:
    return (
        event.event_id,
        datetime.fromtimestamp(event.created_at, tz=UTC).isoformat(),
        event.status[:32],
        (event.reason or "")[:32],
        event.mobile[:32],
        str(event.country_code or "")[:4],
        event.sms_uuid or "",
        event.gateway_id or "",
        list(event.client_ids),
        event.check_results,
        now,
    )


def audit_purge(*, older_than_days: int | None = None, chunk: int = 10_000) -> int:
    """Delete monitor events older than the retention period, a chunk at a time."""
    days = settings.AUDIT_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = timezone.now() - timedelta(days=days)
    deleted = 0
    while True:
        ids = list(MonitorEvent.objects.filter(occurred_at__lt=cutoff).values_list("id", flat=True)[:chunk])
        if not ids:
            return deleted
        deleted += MonitorEvent.objects.filter(id__in=ids).delete()[0]
