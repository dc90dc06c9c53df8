"""The audit trail: drain monitor events from Redis into PostgreSQL, purge old rows."""

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
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
        prefetch=True,
    )


def _monitor_sink(batch: Batch) -> int:
    now = timezone.now().isoformat()
    read, instants = MonitorEventRecord.fields_from_json, _Instants()
    # A generator: COPY decodes the events a chunk at a time while PostgreSQL stores the last.
    rows = (_row(read(item), now, instants) for item in batch.items)
    insert_ignoring_conflicts(model=MonitorEvent, columns=COLUMNS, rows=rows, json_encoded=True)
    batch_ack(batch)
    return len(batch.items)


def _row(event: dict[str, Any], now: str, instants: "_Instants | None" = None) -> tuple:
    """The COLUMNS of one event's fields (``MonitorEventRecord.fields_from_json``), with the
    record's defaults for what a v1 item left out; the JSON columns as JSON text."""
    get = event.get
    if instants is None:
        instants = _Instants()
    return (
        event["event_id"],
        instants.iso(event["created_at"]),
        event["status"][:32],
        (get("reason") or "")[:32],
        event["mobile"][:32],
        str(get("country_code") or "")[:4],
        get("sms_uuid") or "",
        get("gateway_id") or "",
        _json(list(get("client_ids") or ())),
        _json(get("check_results") or {}),
        now,
    )


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


class _Instants(dict[int, str]):
    """Epoch seconds as ISO 8601 in UTC, for one batch: the events of a batch share their
    seconds, and datetime.fromtimestamp().isoformat() was a third of building a row."""

    def iso(self, epoch: float) -> str:
        whole = int(epoch)
        micros = round((epoch - whole) * 1_000_000)  # rounded half to even, as datetime does
        if whole < 0 or micros >= 1_000_000:
            return datetime.fromtimestamp(epoch, tz=UTC).isoformat()
        second = self.get(whole)
        if second is None:
            second = self[whole] = datetime.fromtimestamp(whole, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return f"{second}.{micros:06d}+00:00"


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
