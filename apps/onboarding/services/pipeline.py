"""Judge queued inbound SMS in batches: Redis in, Redis out, two round trips a batch.

One pipeline reads the state every check needs; the checks run in Python; one
MULTI/EXEC applies every effect of the batch *and* acknowledges the batch, so a
worker killed at any point leaves either nothing done (the batch is replayed) or
everything done (the batch is gone): each SMS gets exactly one verdict.
"""

import json
import logging
import time
from datetime import UTC, datetime

from django.conf import settings
from redis.client import Pipeline

from apps.audit.events import monitor_event
from apps.core import keys
from apps.core.exceptions import ApplicationError
from apps.core.history import NUMBER_VERIFIED, REGISTRATION_EXPIRED, SMS_JUDGED, history_append
from apps.core.phone import mobile_parse
from apps.core.queues import Batch, Wake, batch_ack, queue_drain_woken
from apps.core.redis import get_redis
from apps.core.repair import redis_ensure_ready
from apps.core.system_settings import Settings, system_settings_get
from apps.core.timeutil import from_epoch_ms, iso_utc
from apps.inbound.payloads import InboundSmsRecord

from ..payloads import VerifiedRecord
from .checks import SmsContext, Verdict, checks_run
from .registration import StoredRegistration, registration_entry, registrations_parse

logger = logging.getLogger(__name__)

VALIDATE_LOCK = "sms_validate"
MAX_BATCHES_PER_RUN = 500  # bounds one task run; the next kick or beat tick continues


def sms_validate_pending(*, batch_size: int | None = None, linger: float = 0.0) -> int:
    """Judge everything queued, under the validation lock; returns how many were judged.

    ``linger``: after a batch that emptied the queue, wait this long for more before the
    next claim (the woken task passes ``INBOUND_BATCH_WAIT``; see ``apps.core.queues.Wake``).

    Waits (judges nothing) while Redis is not known to hold the verified and blacklist
    sets, since the duplicate and blacklist checks would pass wrongly.
    """
    if not redis_ensure_ready():
        return 0
    return queue_drain_woken(
        queue=keys.sms_inbound_queue(),
        lock=VALIDATE_LOCK,
        sink=sms_validate_batch,
        batch_size=batch_size or settings.INBOUND_BATCH_SIZE,
        max_batches=MAX_BATCHES_PER_RUN,
        wake=Wake(keys.sms_inbound_kick(), linger=linger),
    )


def sms_validate_batch(batch: Batch) -> int:
    config = system_settings_get()
    now = time.time()
    contexts = [_context(InboundSmsRecord.from_json(item), now) for item in batch.items]
    _load_state(contexts)
    verdicts = _judge(contexts, config)
    _apply(batch, contexts, verdicts, config)
    return len(contexts)


def _context(sms: InboundSmsRecord, now: float) -> SmsContext:
    try:
        mobile = mobile_parse(sms.sender_number)
    except ApplicationError:
        mobile = None
    received = datetime.fromisoformat(sms.received_timestamp)
    if received.tzinfo is None:
        received = received.replace(tzinfo=UTC)
    key = mobile.key if mobile else sms.sender_number.strip()[:32]
    return SmsContext(sms=sms, key=key, mobile=mobile, received_at=received, now=now)


def _load_state(contexts: list[SmsContext]) -> None:
    with get_redis().pipeline(transaction=False) as pipe:
        for ctx in contexts:
            pipe.sismember(keys.blacklist_mobiles(), ctx.key)
            pipe.sismember(keys.out_sms_numbers(), ctx.key)
            pipe.hgetall(keys.onboard_regs(ctx.key))
            pipe.get(keys.abuse_counter(ctx.key))
        replies = pipe.execute()
    for i, ctx in enumerate(contexts):
        blacklisted, verified, entries, abuse_count = replies[i * 4 : i * 4 + 4]
        ctx.blacklisted, ctx.verified = bool(blacklisted), bool(verified)
        ctx.registrations = registrations_parse(entries)
        ctx.abuse_count = int(abuse_count or 0)


def _judge(contexts: list[SmsContext], config: Settings) -> list[Verdict]:
    verdicts = []
    verified_now: set[str] = set()
    for ctx in contexts:
        # A number verified earlier in this same batch is a duplicate for the rest of it.
        ctx.verified = ctx.verified or ctx.key in verified_now
        verdict = checks_run(ctx, config)
        if verdict.valid:
            verified_now.add(ctx.key)
        verdicts.append(verdict)
    return verdicts


def _apply(batch: Batch, contexts: list[SmsContext], verdicts: list[Verdict], config: Settings) -> None:
    verified_at = time.time()
    failures: dict[str, int] = {}
    with get_redis().pipeline(transaction=True) as pipe:
        for ctx, verdict in zip(contexts, verdicts, strict=True):
            completed = ctx.completes(config) if verdict.valid else None
            clients, registration_id = _attribution(ctx, completed)
            pipe.lpush(keys.sms_monitor_queue(), _event(ctx, verdict, clients, registration_id))
            summary = {"status": "valid" if verdict.valid else "invalid", "reason": verdict.failed_check}
            history_append(pipe, SMS_JUDGED, _judged(ctx, summary, registration_id), clients)
            pipe.hincrby(keys.metrics_verdicts(), f"{summary['status']}:{verdict.failed_check or 'none'}", 1)
            pipe.set(keys.sms_verdict(ctx.sms.uuid), json.dumps(summary), ex=keys.SMS_VERDICT_TTL)
            if verdict.valid:
                _onboard(pipe, ctx, completed, verified_at)
            else:
                # Only failures count towards abuse: a person who proves a number is no abuser.
                counter = keys.abuse_counter(ctx.key)
                pipe.incr(counter)
                pipe.expire(counter, keys.ABUSE_COUNTER_TTL, nx=True)
                # Noted for the sweep, which then blacklists without scanning every counter.
                # The counts were read under the validation lock, so nobody else moved them.
                failures[ctx.key] = failures.get(ctx.key, 0) + 1
                if ctx.abuse_count + failures[ctx.key] >= config.abuse_threshold:
                    pipe.sadd(keys.abuse_offenders(), ctx.key)
        batch_ack(batch, pipe=pipe)
        pipe.execute()


def _onboard(
    pipe: Pipeline, ctx: SmsContext, completed: StoredRegistration | None, verified_at: float
) -> None:
    """Onboard the number: the completed registration is verified, every other pending one ends."""
    pipe.sadd(keys.out_sms_numbers(), ctx.key)
    pipe.delete(keys.onboard_hash(ctx.key))
    regs_key = keys.onboard_regs(ctx.key)
    ended_at = int(verified_at * 1000)
    for reg in ctx.pending():
        state = "verified" if reg == completed else "expired"
        pipe.hset(regs_key, reg.hash, registration_entry(reg, state=state, ended_at=ended_at))
        if state == "expired":
            _expired_tell(pipe, ctx, reg)
    pipe.pexpire(regs_key, keys.ONBOARD_ENDED_KEEP_MS)
    pipe.lpush(keys.out_sms_queue(), _verified_record(ctx, completed, verified_at).to_json())
    if completed is not None:
        history_append(
            pipe, NUMBER_VERIFIED, _number_verified(ctx, completed, verified_at), [completed.client_id]
        )


def _expired_tell(pipe: Pipeline, ctx: SmsContext, reg: StoredRegistration) -> None:
    """Tell a registration's client it ended, and no more: which client or registration
    proved the number is not its business."""
    ended = {"registration_id": reg.registration_id, "mobile_number": ctx.key, "reason": "number_verified"}
    history_append(pipe, REGISTRATION_EXPIRED, ended, [reg.client_id])


def _attribution(ctx: SmsContext, completed: StoredRegistration | None) -> tuple[list[str], str]:
    """The clients a verdict belongs to, and the registration it completed ("" when
    none): the completed one's client, else every client waiting on the number."""
    if completed is not None:
        return [completed.client_id], completed.registration_id
    return sorted({reg.client_id for reg in ctx.pending()}), ""


def _judged(ctx: SmsContext, summary: dict[str, str], registration_id: str) -> dict[str, str]:
    """The ``sms.judged`` data: never the body, whose hash a pending registration may
    still wait for."""
    return {
        "sms_uuid": ctx.sms.uuid,
        "mobile_number": ctx.key,
        "status": summary["status"],
        "reason": summary["reason"],
        "registration_id": registration_id,
    }


def _number_verified(ctx: SmsContext, completed: StoredRegistration, verified_at: float) -> dict[str, str]:
    return {
        "registration_id": completed.registration_id,
        "reference": completed.reference,
        "mobile_number": ctx.key,
        "country_code": str(ctx.mobile.country_code) if ctx.mobile else "",
        "verified_at": iso_utc(from_epoch_ms(verified_at * 1000)),
        "sms_uuid": ctx.sms.uuid,
    }


def _event(ctx: SmsContext, verdict: Verdict, clients: list[str], registration_id: str) -> str:
    return monitor_event(
        status="valid" if verdict.valid else "invalid",
        mobile=ctx.key,
        country_code=str(ctx.mobile.country_code) if ctx.mobile else "",
        sms_uuid=ctx.sms.uuid,
        reason=verdict.failed_check,
        check_results=verdict.results,
        gateway_id=ctx.sms.gateway_id,
        client_ids=clients,
        registration_id=registration_id,
        queued_at=ctx.sms.queued_at,
    )


def _verified_record(
    ctx: SmsContext, completed: StoredRegistration | None, verified_at: float
) -> VerifiedRecord:
    return VerifiedRecord(
        sms_uuid=ctx.sms.uuid,
        mobile=ctx.key,
        country_code=str(ctx.mobile.country_code) if ctx.mobile else "",
        sender_number=ctx.sms.sender_number,
        sms_message=ctx.sms.sms_message,
        gateway_id=ctx.sms.gateway_id or None,
        received_at=ctx.received_at.isoformat(),
        verified_at=verified_at,
        registration_id=completed.registration_id if completed else "",
        client_id=completed.client_id if completed else "",
        reference=completed.reference if completed else "",
    )
