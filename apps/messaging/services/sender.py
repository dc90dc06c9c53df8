"""Send queued notifications: route, try each gateway, retry with backoff, record.

A worker claims a batch from ``notification_queue`` (apps.core.queues: a batch left
by a dead worker is handed out again first) and sends its notifications concurrently,
NOTIFICATION_SEND_CONCURRENCY at a time. Each outcome is recorded in Redis
(services/status.py) right after its provider answers and before the batch is acked,
so a replayed batch skips every notification already sent, failed or delivered.

One notification left ``sending`` by a worker that died mid-send is the only doubt:
the provider may or may not have it. The sender asks the gateway it was being sent
through (an Android gateway can say, by our message id); when the provider cannot say
(Twilio, Jasmin, SMTP) it is sent again: at least once rather than perhaps never.

A gateway that fails (GatewayError, or anything unexpected) is skipped for a cool-down
shared by all workers (``gateway_cooldown:{id}``, doubling with each failure in a row)
and the next gateway is tried; a permanent rejection fails the notification at once.
When every gateway fails the attempt is over: the next one is due after
``notification_retry_base_seconds`` * 2^(attempt-1), until ``notification_max_attempts``.
"""

import logging
import random
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from apps.core import keys
from apps.core.queues import Batch, Wake, batch_ack, queue_drain_woken
from apps.core.redis import get_redis, run_script
from apps.core.system_settings import Settings, system_settings_get

from ..payloads import NotificationRecord
from ..providers import provider_for
from ..providers.base import GatewayError, Lookup, MessageRejected, OutboundMessage, SendingGateway
from .routing import routes_for
from .status import notification_change

logger = logging.getLogger(__name__)

SEND_LOCK = "notification_send"
MAX_BATCHES_PER_RUN = 200
RETRY_PROMOTE_LIMIT = 1000
LONGEST_COOLDOWN_MS = 3600 * 1000
NO_ROUTE = "no sending gateway covers this destination"


def notifications_send_pending(*, batch_size: int | None = None) -> int:
    """Send everything queued or due again, under the send lock; returns how many were handled."""
    return queue_drain_woken(
        queue=keys.notification_queue(),
        lock=SEND_LOCK,
        sink=notification_batch_send,
        batch_size=batch_size or settings.NOTIFICATION_BATCH_SIZE,
        max_batches=MAX_BATCHES_PER_RUN,
        wake=Wake(keys.notification_kick()),
        before=retries_due_promote,
    )


def retries_due_promote() -> int:
    return int(
        run_script(
            "messaging/lua/notification_retry_due.lua",
            keys=[keys.notification_retry(), keys.notification_queue()],
            args=[int(time.time() * 1000), RETRY_PROMOTE_LIMIT],
        )
    )


@dataclass(frozen=True)
class Live:
    """What Redis says of a notification when its batch is taken."""

    status: str | None  # None: no live record (expired, or never queued)
    attempts: int
    gateway_id: str


def notification_batch_send(batch: Batch) -> int:
    records = [NotificationRecord.from_json(item) for item in batch.items]
    # One notification twice in a batch (a retry copy beside a replayed one) is sent once.
    unique = list({r.id: r for r in records}.values())
    live = _live_states(unique)
    todo = [(r, s) for r, s in zip(unique, live, strict=True) if s.status in ("queued", "sending")]
    config = system_settings_get()
    if todo:
        workers = max(1, min(settings.NOTIFICATION_SEND_CONCURRENCY, len(todo)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="notify") as pool:
            for future in [pool.submit(_send_in_thread, r, s, config) for r, s in todo]:
                future.result()  # a transient error (Redis) propagates: the batch is replayed
    batch_ack(batch)
    return len(records)


def _live_states(records: list[NotificationRecord]) -> list[Live]:
    with get_redis().pipeline(transaction=False) as pipe:
        for record in records:
            pipe.hmget(keys.notification(record.id), "status", "attempts", "gateway_id")
        rows = pipe.execute()
    return [Live(s and str(s), int(a or 0), str(g or "")) for s, a, g in rows]


def _send_in_thread(record: NotificationRecord, live: Live, config: Settings) -> None:
    with _thread_connection():
        notification_send(record, live, config)


@contextmanager
def _thread_connection() -> Iterator[None]:
    # A pool thread that touched PostgreSQL (the console outbox) has a connection of its
    # own; close it, or every batch would leave one open per thread.
    try:
        yield
    finally:
        connection.close()


def notification_send(record: NotificationRecord, live: Live, config: Settings) -> None:
    """One attempt at one notification, through its gateways in order."""
    message = OutboundMessage(
        id=record.id,
        channel=record.channel,
        to=record.to,
        body=record.body,
        subject=record.subject,
        sensitive=record.sensitive,
    )
    gateways = routes_for(channel=record.channel, to=record.to)
    if not gateways:
        notification_change(
            notification_id=record.id, status="failed", last_error=NO_ROUTE, metric="none:failed"
        )
        return
    if live.status == "sending" and _recovered(message, live, gateways):
        return
    available, wait_ms = _not_cooling(gateways)
    if not available:
        # Nothing was tried, so no attempt is spent: come back when the first cool-down ends.
        _retry_schedule(record, attempts=live.attempts, delay_ms=wait_ms)
        return
    attempt = max(live.attempts, record.attempts) + 1
    errors = []
    for gateway in available:
        notification_change(
            notification_id=record.id, status="sending", attempts=attempt, gateway_id=gateway.id
        )
        outcome = _try(gateway, message)
        if outcome.sent is not None:
            _sent(record.id, gateway, outcome.sent)
            return
        if outcome.rejected:
            notification_change(
                notification_id=record.id,
                status="failed",
                last_error=outcome.error,
                gateway_id=gateway.id,
                metric=f"{gateway.id}:rejected",
            )
            return
        errors.append(f"{gateway.name}: {outcome.error}")
    _attempt_failed(record, attempt=attempt, error="; ".join(errors), config=config)


@dataclass(frozen=True)
class Outcome:
    sent: str | None = None  # the provider's message id
    rejected: bool = False
    error: str = ""


def _try(gateway: SendingGateway, message: OutboundMessage) -> Outcome:
    try:
        sent = provider_for(gateway.kind).send(gateway, message)
    except MessageRejected as exc:
        return Outcome(rejected=True, error=str(exc) or "rejected by the provider")
    except GatewayError as exc:
        error = str(exc) or type(exc).__name__
    except Exception as exc:  # an adapter's bug or an unforeseen answer: this gateway failed
        logger.exception("sending through gateway %s failed unexpectedly", gateway.name)
        error = f"{type(exc).__name__}: {exc}"
    else:
        get_redis().delete(keys.gateway_failures(gateway.id))
        return Outcome(sent=sent.provider_id)
    _gateway_trip(gateway)
    logger.warning("gateway %s failed, skipped for a cool-down: %s", gateway.name, error)
    return Outcome(error=error)


def _sent(notification_id: str, gateway: SendingGateway, provider_id: str) -> None:
    notification_change(
        notification_id=notification_id,
        status="sent",
        last_error="",
        gateway_id=gateway.id,
        provider_id=provider_id,
        metric=f"{gateway.id}:sent",
    )


def _recovered(message: OutboundMessage, live: Live, gateways: list[SendingGateway]) -> bool:
    """Left ``sending`` by a dead worker: True when the gateway it was going to has it."""
    gateway = next((g for g in gateways if g.id == live.gateway_id), None)
    if gateway is None:
        return False
    try:
        found, provider_id = provider_for(gateway.kind).lookup(gateway, message)
    except Exception:  # the gateway cannot tell now: sending again is the safe side
        logger.warning(
            "could not ask gateway %s about notification %s", gateway.name, message.id, exc_info=True
        )
        return False
    if found is Lookup.SENT:
        _sent(message.id, gateway, provider_id)
        return True
    return False


def _not_cooling(gateways: list[SendingGateway]) -> tuple[list[SendingGateway], int]:
    """The gateways not in a cool-down, and how long until the first one ends (ms)."""
    with get_redis().pipeline(transaction=False) as pipe:
        for gateway in gateways:
            pipe.pttl(keys.gateway_cooldown(gateway.id))
        ttls = pipe.execute()
    available = [g for g, ttl in zip(gateways, ttls, strict=True) if ttl < 0]
    waiting = [int(ttl) for ttl in ttls if ttl > 0]
    return available, min(waiting, default=1000)


def _gateway_trip(gateway: SendingGateway) -> None:
    base_ms = system_settings_get().gateway_cooldown_seconds * 1000
    run_script(
        "messaging/lua/gateway_trip.lua",
        keys=[keys.gateway_failures(gateway.id), keys.gateway_cooldown(gateway.id)],
        args=[base_ms, LONGEST_COOLDOWN_MS, keys.GATEWAY_FAILURES_TTL],
    )


def _attempt_failed(record: NotificationRecord, *, attempt: int, error: str, config: Settings) -> None:
    if attempt >= config.notification_max_attempts:
        notification_change(
            notification_id=record.id, status="failed", last_error=error, metric="none:failed"
        )
        return
    base_ms = config.notification_retry_base_seconds * 1000
    delay_ms = base_ms * 2 ** (attempt - 1) * random.uniform(0.9, 1.1)  # noqa: S311  # jitter, not crypto
    _retry_schedule(record, attempts=attempt, delay_ms=int(delay_ms), error=error)


def _retry_schedule(
    record: NotificationRecord, *, attempts: int, delay_ms: int, error: str | None = None
) -> None:
    """Back to ``queued`` until the next attempt is due. The copy in the retry set is
    written first: should the worker die between the two, the status says ``sending``
    and the replayed batch sends it; the retry copy then finds it sent and is skipped."""
    due = int(time.time() * 1000) + max(1, delay_ms)
    get_redis().zadd(keys.notification_retry(), {record.retried(attempts).to_json(): due})
    notification_change(notification_id=record.id, status="queued", attempts=attempts, last_error=error)
