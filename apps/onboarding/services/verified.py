"""Write verified numbers to PostgreSQL (``out_sms``) and create their callbacks.

Runs in a worker from ``out_sms_queue``; inserts are idempotent (the SMS uuid and the
number are unique, the callback is unique per client and SMS), so a replayed batch
writes nothing twice. PostgreSQL being down only delays this: the batch stays in Redis.
"""

from datetime import UTC, datetime

from django.db import transaction

from apps.clients.models import CallbackDelivery, Client
from apps.clients.webhooks import callback_payload, callbacks_queue_on_commit
from apps.core import keys
from apps.core.queues import Batch, batch_ack, queue_drain
from apps.core.timeutil import iso_utc

from ..models import OutSms
from ..payloads import VerifiedRecord

FLUSH_LOCK = "out_sms_flush"


def out_sms_flush(*, batch_size: int = 500) -> int:
    """Move verified numbers from Redis to PostgreSQL; returns how many were handled."""
    return queue_drain(queue=keys.out_sms_queue(), lock=FLUSH_LOCK, sink=_flush_batch, batch_size=batch_size)


def _flush_batch(batch: Batch) -> int:
    records = [VerifiedRecord.from_json(item) for item in batch.items]
    with transaction.atomic():
        OutSms.objects.bulk_create([_row(r) for r in records], ignore_conflicts=True)
        reachable = _clients_with_webhook({c for r in records for c in r.client_ids})
        deliveries = [d for r in records for d in _deliveries(r, reachable)]
        CallbackDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
        callbacks_queue_on_commit(event_ids=[r.sms_uuid for r in records])
    batch_ack(batch)
    return len(records)


def _row(record: VerifiedRecord) -> OutSms:
    return OutSms(
        uuid=record.sms_uuid,
        local_mobile=record.mobile,
        country_code=record.country_code,
        sender_number=record.sender_number,
        sms_message=record.sms_message,
        gateway_id=record.gateway_id,
        received_at=datetime.fromisoformat(record.received_at),
        verified_at=datetime.fromtimestamp(record.verified_at, tz=UTC),
    )


def _clients_with_webhook(client_ids: set[str]) -> set[str]:
    """Clients that still exist and want callbacks (a deleted client must not poison a batch)."""
    rows = Client.objects.filter(id__in=client_ids, is_active=True).exclude(webhook_url="")
    return {str(pk) for pk in rows.values_list("id", flat=True)}


def _deliveries(record: VerifiedRecord, reachable: set[str]) -> list[CallbackDelivery]:
    verified_at = datetime.fromtimestamp(record.verified_at, tz=UTC)
    payload = callback_payload(
        registration_id=record.registration_id or None,
        reference=record.reference or None,
        mobile_number=record.mobile,
        country_code=record.country_code,
        verified_at=iso_utc(verified_at),
        sms_uuid=record.sms_uuid,
    )
    return [
        CallbackDelivery(
            client_id=client_id, event_id=record.sms_uuid, payload=payload, next_attempt_at=verified_at
        )
        for client_id in record.client_ids
        if client_id in reachable
    ]
