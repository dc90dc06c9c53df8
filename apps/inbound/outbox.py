"""The inbound outbox: SMS a gateway delivered while Redis could not take them.

Receiving is Redis only while Redis serves. When it does not (unreachable, hung,
restarting, full or read-only), the receive endpoints keep the SMS in PostgreSQL and
acknowledge the gateway as usual; once Redis is back, ``sms_outbox_flush`` (beat's
``sms-outbox-flush``) queues the rows oldest first and deletes them. Both steps keep the
de-duplication key of a live delivery, (gateway id, message id): a repeat during the
outage finds the first row, and the move runs the receive script itself, so its
``SET NX`` on the dedupe mark decides whether an SMS is queued. A row is deleted only
after its script ran, so a worker killed between the two replays the row and the mark
drops it: every SMS is queued exactly once.
"""

import logging
from dataclasses import dataclass, replace
from typing import Any

import redis
from django.conf import settings
from django.db import DatabaseError, transaction

from apps.core import keys
from apps.core.history import event_json, history_lua_args
from apps.core.locks import lock_hold
from apps.core.redis import REDIS_DOWN_ERRORS, get_redis, run_script, script_call
from apps.core.registry import SMS_VALIDATE, work_wake

from .models import InboundOutbox
from .payloads import InboundSmsRecord

logger = logging.getLogger(__name__)

# Redis answered but cannot take the write: full (noeviction) or a read-only replica
# after a failover. An outage as far as the gateway is concerned.
REDIS_REFUSED_WRITES: tuple[type[Exception], ...] = (redis.exceptions.OutOfMemoryError, redis.ReadOnlyError)
REDIS_CANNOT_TAKE = (*REDIS_DOWN_ERRORS, *REDIS_REFUSED_WRITES)


class NotReplicated(redis.RedisError):
    """INBOUND_ACK_REPLICAS replicas did not confirm the write in time (and PostgreSQL could
    not keep the SMS either): the gateway gets a 503 and retries, a duplicate by then."""


@dataclass(frozen=True)
class Queued:
    created: bool  # False: the gateway message was queued before (its first uuid below)
    uuid: str
    kick: bool
    replicated: bool  # reached INBOUND_ACK_REPLICAS replicas (always True when that is 0)


FLUSH_BATCH = 500  # rows per SELECT and per pipelined round trip of receive scripts
FLUSH_MAX_BATCHES = 100  # per run; the next run continues
ENQUEUE_SCRIPT = "inbound/lua/sms_enqueue.lua"


def _enqueue_call(record: InboundSmsRecord, record_json: str) -> tuple[list[str], list[Any]]:
    """The KEYS and ARGV of the receive script for ``record`` (queued as ``record_json``)."""
    script_keys = [
        keys.sms_dedupe(record.gateway_id, record.message_id),
        keys.sms_inbound_queue(),
        keys.sms_inbound_kick(),
        keys.event_feed(),
    ]
    args = [
        record.uuid,
        record_json,
        keys.SMS_DEDUPE_TTL,
        keys.SMS_INBOUND_KICK_TTL_MS,
        *history_lua_args(),
        sms_received_event(record),
    ]
    return script_keys, args


def sms_received_event(record: InboundSmsRecord) -> str:
    """The ``sms.received`` data: never the body, which carries the onboarding hash (a
    secret until the pipeline has used it)."""
    data = {"sms_uuid": record.uuid, "mobile_number": record.sender_number, "gateway_id": record.gateway_id}
    return event_json(data)


def sms_queue(*, record: InboundSmsRecord) -> Queued:
    """Run the receive script for ``record``; with INBOUND_ACK_REPLICAS, also ``WAIT`` for
    that many replicas (up to INBOUND_ACK_WAIT_MS) on the same connection, in the same
    round trip: WAIT counts the writes of the connection that issued it."""
    script_keys, args = _enqueue_call(record, record.to_json())
    replicas = settings.INBOUND_ACK_REPLICAS
    if not replicas:
        created, first_uuid, kick = run_script(ENQUEUE_SCRIPT, keys=script_keys, args=args)
        return Queued(bool(created), str(first_uuid), bool(kick), replicated=True)
    with get_redis().pipeline(transaction=False) as pipe:
        script_call(pipe, ENQUEUE_SCRIPT, keys=script_keys, args=args)
        pipe.wait(replicas, settings.INBOUND_ACK_WAIT_MS)
        (created, first_uuid, kick), acknowledged = pipe.execute()
    return Queued(bool(created), str(first_uuid), bool(kick), replicated=int(acknowledged) >= replicas)


def sms_outbox_write(*, record: InboundSmsRecord, cause: Exception) -> tuple[str, bool]:
    """Keep ``record`` in PostgreSQL; returns (uuid of the first delivery, duplicate).

    Raises ``cause`` (the Redis error: the endpoint answers 503) when PostgreSQL cannot
    take it either, so the gateway retries instead of believing the SMS was received.
    """
    try:
        with transaction.atomic():
            row, created = InboundOutbox.objects.get_or_create(
                gateway_id=record.gateway_id,
                message_id=record.message_id,
                defaults={"sms_uuid": record.uuid, "record": record.to_json()},
            )
    except DatabaseError as exc:
        logger.error("inbound SMS refused: Redis (%s) and PostgreSQL (%s) are both unavailable", cause, exc)
        raise cause from exc
    logger.warning("Redis cannot take inbound SMS (%s): kept in the outbox", type(cause).__name__)
    return str(row.sms_uuid), not created


def sms_outbox_flush(*, batch_size: int = FLUSH_BATCH, max_batches: int = FLUSH_MAX_BATCHES) -> int:
    """Move outbox rows into the Redis inbound queue, oldest first; returns SMS queued.

    One run at a time (``lock:sms_outbox_flush``), so batches keep their order.
    """
    if not InboundOutbox.objects.exists():
        return 0  # the usual tick: one indexed SQL query, no Redis
    queued = 0
    with lock_hold("sms_outbox_flush") as held:
        if held is None:
            return 0
        for _ in range(max_batches):
            rows = list(InboundOutbox.objects.order_by("id")[:batch_size])
            if not rows:
                break
            queued += _rows_enqueue(rows)
            InboundOutbox.objects.filter(id__in=[row.id for row in rows]).delete()
            held.extend(held.timeout or 15, replace_ttl=True)
    if queued:
        work_wake(SMS_VALIDATE)
    return queued


def _rows_enqueue(rows: list[InboundOutbox]) -> int:
    with get_redis().pipeline(transaction=False) as pipe:
        for row in rows:
            script_keys, args = _enqueue_call(_row_record(row), row.record)
            script_call(pipe, ENQUEUE_SCRIPT, keys=script_keys, args=args)
        results = pipe.execute()
    return sum(int(created) for created, _uuid, _kick in results)


def _row_record(row: InboundOutbox) -> InboundSmsRecord:
    """The row's record, read for its event's fields only: the row's JSON is queued as it
    was kept, under the row's own uuid and de-duplication key. A record that cannot be
    read still moves (the pipeline dead-letters it), its event without the sender, so one
    bad row cannot stop every flush."""
    try:
        record = InboundSmsRecord.from_json(row.record)
    except (ValueError, TypeError):
        record = InboundSmsRecord(uuid="", sender_number="", sms_message="", received_timestamp="")
    return replace(record, uuid=str(row.sms_uuid), gateway_id=row.gateway_id, message_id=row.message_id)


def sms_outbox_size() -> int:
    """SMS acknowledged while Redis could not take them, still waiting to be queued."""
    return InboundOutbox.objects.count()
