"""Keep the PostgreSQL copy of notifications, and tell clients how they ended.

Drains ``notification_events`` (every change of every notification, in order) in
reliable batches. A ``queued`` change creates the row; every later change carries the
notification's ``seq`` and is applied only over an older one, so a replayed batch, or a
change that arrives again, writes nothing twice and never moves a row backwards. A
notification that ends ``delivered`` or ``failed`` gets a ``notification.delivered`` or
``notification.failed`` callback to its client (unique per notification and outcome),
through the same delivery machinery as ``number.verified``.
"""

from datetime import UTC, datetime

from django.db import transaction

from apps.clients.models import CallbackDelivery, Client
from apps.clients.webhooks import callbacks_queue_on_commit
from apps.core import keys
from apps.core.queues import Batch, batch_ack, queue_drain
from apps.inbound.models import Gateway

from ..models import Notification
from ..payloads import NotificationEvent

FLUSH_LOCK = "notification_events_flush"
TERMINAL = ("delivered", "failed")
CHANGED_FIELDS = [
    "status",
    "attempts",
    "last_error",
    "gateway_id",
    "provider_message_id",
    "seq",
    "updated_at",
]


def notification_events_flush(*, batch_size: int = 500) -> int:
    return queue_drain(
        queue=keys.notification_events(), lock=FLUSH_LOCK, sink=_flush_batch, batch_size=batch_size
    )


def _flush_batch(batch: Batch) -> int:
    events = [NotificationEvent.from_json(item) for item in batch.items]
    with transaction.atomic():
        _rows_create([e for e in events if e.status == "queued" and e.seq == 1])
        newest = _newest_changes([e for e in events if e.seq > 1])
        gateways = _gateways_known({e.gateway_id for e in newest.values() if e.gateway_id})
        applied = [e for e in newest.values() if _change_apply(e, gateways)]
        _callbacks_create([e for e in applied if e.status in TERMINAL])
    batch_ack(batch)
    return len(events)


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def _rows_create(queued: list[NotificationEvent]) -> None:
    # A client deleted since must not poison the batch: its notifications are dropped.
    known = {
        str(pk)
        for pk in Client.objects.filter(id__in={e.client_id for e in queued}).values_list("id", flat=True)
    }
    rows = [
        Notification(
            id=e.id,
            client_id=e.client_id,
            channel=e.channel,
            to=e.to,
            subject=e.subject,
            body=e.body,
            body_redacted=e.body_redacted,
            idempotency_key=e.idempotency_key,
            status="queued",
            seq=1,
            created_at=_at(e.at),
            updated_at=_at(e.at),
        )
        for e in queued
        if e.client_id in known
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)


def _newest_changes(changes: list[NotificationEvent]) -> dict[str, NotificationEvent]:
    newest: dict[str, NotificationEvent] = {}
    for event in changes:
        if event.id not in newest or event.seq > newest[event.id].seq:
            newest[event.id] = event
    return newest


def _gateways_known(gateway_ids: set[str]) -> set[str]:
    """The gateways that still exist: one deleted since its send must not poison the batch."""
    if not gateway_ids:
        return set()
    return {str(pk) for pk in Gateway.objects.filter(id__in=gateway_ids).values_list("id", flat=True)}


def _change_apply(event: NotificationEvent, gateways: set[str]) -> bool:
    """Apply ``event`` over an older state; True when it changed the row."""
    updated = Notification.objects.filter(id=event.id, seq__lt=event.seq).update(
        status=event.status,
        attempts=event.attempts,
        last_error=event.last_error,
        gateway_id=event.gateway_id if event.gateway_id in gateways else None,
        provider_message_id=event.provider_id,
        seq=event.seq,
        updated_at=_at(event.at),
    )
    return bool(updated)


def notification_callback_payload(notification: Notification) -> dict:
    return {
        "event": f"notification.{notification.status}",
        "id": str(notification.id),
        "channel": notification.channel,
        "status": notification.status,
        "attempts": notification.attempts,
        "last_error": notification.last_error,
    }


def _callbacks_create(ended: list[NotificationEvent]) -> None:
    if not ended:
        return
    rows = Notification.objects.filter(id__in=[e.id for e in ended], status__in=TERMINAL).select_related(
        "client"
    )
    deliveries = [
        CallbackDelivery(
            client=n.client,
            event_id=f"{n.id}.{n.seq}",  # one per ending: a retried notification may end again
            event_type=f"notification.{n.status}",
            payload=notification_callback_payload(n),
            next_attempt_at=n.updated_at,
        )
        for n in rows
        if n.client.is_active and n.client.webhook_url
    ]
    CallbackDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    callbacks_queue_on_commit(event_ids=[d.event_id for d in deliveries])
