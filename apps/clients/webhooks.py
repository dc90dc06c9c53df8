"""Verified-number callbacks to client apps, signed the Standard Webhooks way.

Deliveries live in PostgreSQL (CallbackDelivery). A worker claims one with a
conditional UPDATE (so two workers never send the same attempt), POSTs it, and either
marks it delivered or schedules the next attempt with exponential backoff; after the
last attempt it stays ``failed`` for an operator to retry from the admin. Retries are
driven by ``next_attempt_at`` and a beat task, never by long Celery countdowns; the
delivery task reports each failed attempt to Celery as a retried or failed task.
"""

import json
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from apps.core import keys
from apps.core.operator_log import Actor, operator_action_record
from apps.core.redis import get_redis
from apps.core.registry import CALLBACK_DELIVER, work_queue_on_commit
from apps.core.safe_http import DestinationRefused, OutboundHttpError, http_post_bounded

from .models import CallbackDelivery

logger = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(seconds=60)  # longer than one POST with its deadline
RESPONSE_KEEP_BYTES = 4096  # of a client's answer; the rest is never read
DISPATCH_LIMIT = 200


def callback_payload(
    *,
    registration_id: str | None,
    reference: str | None,
    mobile_number: str,
    country_code: str,
    verified_at: str,
    sms_uuid: str,
) -> dict:
    """``number.verified``: names the one registration the SMS proved, and the client's reference."""
    return {
        "event": "number.verified",
        "registration_id": registration_id,
        "reference": reference,
        "mobile_number": mobile_number,
        "country_code": country_code,
        "verified_at": verified_at,
        "sms_uuid": sms_uuid,
    }


def callback_headers(*, secret: str, event_id: str, body: str, sent_at: datetime) -> dict[str, str]:
    signature = Webhook(secret).sign(msg_id=event_id, timestamp=sent_at, data=body)
    return {
        "content-type": "application/json",
        "webhook-id": event_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
        "user-agent": "SMS-Bridge-Webhooks/1.0",
    }


def callbacks_queue_on_commit(*, event_ids: list[str]) -> None:
    """After the surrounding transaction commits, send the events' first attempts at once.

    The delivery task is queued through the registry (the clients app registers it), so
    this module never imports tasks.py, which imports it. An attempt queued twice, or
    one beat's dispatch sends meanwhile, is harmless: the claim decides what is sent.
    """
    pending = CallbackDelivery.objects.filter(
        event_id__in=event_ids, status=CallbackDelivery.Status.PENDING, attempts=0
    ).values_list("id", flat=True)
    for delivery_id in pending:
        work_queue_on_commit(CALLBACK_DELIVER, delivery_id)


@dataclass(frozen=True)
class AttemptOutcome:
    """What one call to ``callback_attempt`` did, for the task that reports it to Celery."""

    status: str  # delivered; pending (next try at next_attempt_at); failed; or not_due (nothing sent)
    attempts: int = 0
    error: str = ""
    next_attempt_at: datetime | None = None


def callback_deliver(*, delivery_id: int) -> str:
    """One attempt at delivery ``delivery_id`` if it is due; returns its status after."""
    return callback_attempt(delivery_id=delivery_id).status


def callback_attempt(*, delivery_id: int) -> AttemptOutcome:
    """One attempt at delivery ``delivery_id`` if it is due, and how it ended.

    The claim counts the attempt in the same conditional UPDATE, before the POST: a
    worker killed mid-delivery has still spent it, so a delivery that keeps killing its
    workers reaches its last try and fails instead of being retried forever.
    """
    now = timezone.now()
    due = CallbackDelivery.objects.filter(
        id=delivery_id, status=CallbackDelivery.Status.PENDING, next_attempt_at__lte=now
    )
    claimed = due.filter(attempts__lt=settings.CALLBACK_MAX_ATTEMPTS).update(
        next_attempt_at=now + CLAIM_LEASE, attempts=F("attempts") + 1
    )
    if claimed != 1:
        return _fail_if_attempts_spent(due)
    delivery = CallbackDelivery.objects.select_related("client").get(id=delivery_id)
    error, status_code = _post(delivery)
    _record_attempt(delivery, error=error, status_code=status_code)
    pending = delivery.status == CallbackDelivery.Status.PENDING
    return AttemptOutcome(
        delivery.status, delivery.attempts, error, delivery.next_attempt_at if pending else None
    )


SPENT_ERROR = "the last attempt did not finish (its worker stopped)"


def _fail_if_attempts_spent(due: QuerySet[CallbackDelivery]) -> AttemptOutcome:
    """A due delivery whose last claimed attempt never reported back (its worker died) has failed."""
    spent = due.filter(attempts__gte=settings.CALLBACK_MAX_ATTEMPTS).update(
        status=CallbackDelivery.Status.FAILED, last_error=SPENT_ERROR
    )
    if not spent:
        return AttemptOutcome("not_due")
    get_redis().hincrby(keys.metrics_callbacks(), CallbackDelivery.Status.FAILED, 1)
    return AttemptOutcome(CallbackDelivery.Status.FAILED, settings.CALLBACK_MAX_ATTEMPTS, SPENT_ERROR)


def _post(delivery: CallbackDelivery) -> tuple[str, int | None]:
    url = delivery.client.webhook_url
    if problem := _destination_problem(url):
        return problem, None
    body = json.dumps(delivery.payload, separators=(",", ":"))
    headers = callback_headers(
        secret=delivery.client.webhook_secret, event_id=delivery.event_id, body=body, sent_at=timezone.now()
    )
    try:
        reply = http_post_bounded(
            url=url,
            body=body.encode(),
            headers={**headers, "accept-encoding": "identity"},  # no decompression bombs
            deadline_seconds=settings.CALLBACK_TIMEOUT_SECONDS,
            max_body_bytes=RESPONSE_KEEP_BYTES,
            allow_private_networks=settings.CALLBACK_ALLOW_PRIVATE_NETWORKS,
        )
    except DestinationRefused as exc:
        return f"{exc} (CALLBACK_ALLOW_PRIVATE_NETWORKS=1 allows it, for development)", None
    except OutboundHttpError as exc:
        return str(exc)[:500], None
    if 200 <= reply.status_code < 300:
        return "", reply.status_code
    return f"HTTP {reply.status_code}: {reply.body[:200].decode(errors='replace')}", reply.status_code


def _destination_problem(url: str) -> str:
    """Why ``url`` is refused before any connection, or "" (addresses are checked at connect time)."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in {"http", "https"}:
        return f"webhook URL scheme {scheme or '(none)'!r} is refused: use https"
    if scheme == "http" and not (settings.DEBUG or settings.CALLBACK_ALLOW_PRIVATE_NETWORKS):
        return "webhook URL must use https (plain http only with CALLBACK_ALLOW_PRIVATE_NETWORKS=1)"
    return ""


def _record_attempt(delivery: CallbackDelivery, *, error: str, status_code: int | None) -> None:
    # delivery.attempts already counts this attempt: the claim added it.
    delivery.last_error = error
    delivery.last_status_code = status_code
    now = timezone.now()
    if not error:
        delivery.status = CallbackDelivery.Status.DELIVERED
        delivery.delivered_at = now
    elif delivery.attempts >= settings.CALLBACK_MAX_ATTEMPTS:
        delivery.status = CallbackDelivery.Status.FAILED
        logger.warning(
            "callback %s to client %s failed for good: %s", delivery.event_id, delivery.client_id, error
        )
    else:
        delivery.next_attempt_at = now + _backoff(delivery.attempts)
    delivery.save(
        update_fields=[
            "last_error",
            "last_status_code",
            "status",
            "delivered_at",
            "next_attempt_at",
        ]
    )
    outcome = "retry" if delivery.status == CallbackDelivery.Status.PENDING else delivery.status
    get_redis().hincrby(keys.metrics_callbacks(), outcome, 1)


def _backoff(attempts: int) -> timedelta:
    base = settings.CALLBACK_BACKOFF_BASE_SECONDS * 2 ** (attempts - 1)
    return timedelta(seconds=base * random.uniform(0.8, 1.2))  # noqa: S311 - jitter, not security


def callbacks_due() -> list[int]:
    now = timezone.now()
    rows = CallbackDelivery.objects.filter(status=CallbackDelivery.Status.PENDING, next_attempt_at__lte=now)
    return list(rows.order_by("next_attempt_at").values_list("id", flat=True)[:DISPATCH_LIMIT])


def callback_retry(*, delivery: CallbackDelivery, actor: Actor | None = None) -> bool:
    """Operator action: give a failed delivery a fresh set of attempts, starting now.

    Only a ``failed`` one, in one conditional UPDATE: a pending delivery is still being
    retried and its attempt counter is what bounds it, so it is never reset (nor is a
    delivered one sent twice). Returns False when the delivery was not failed.
    """
    with transaction.atomic():
        retried = CallbackDelivery.objects.filter(
            id=delivery.id, status=CallbackDelivery.Status.FAILED
        ).update(
            status=CallbackDelivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now(), last_error=""
        )
        if not retried:
            return False
        if actor is not None:
            operator_action_record(
                actor=actor,
                action="callback.retry",
                obj=delivery,
                object_label=f"{delivery.event_type} {delivery.event_id}",
                summary=f"to {delivery.client.name}; last error: {delivery.last_error}",
                changes={
                    "status": {
                        "old": CallbackDelivery.Status.FAILED.value,
                        "new": CallbackDelivery.Status.PENDING.value,
                    },
                    "attempts": {"old": delivery.attempts, "new": 0},
                },
            )
        callbacks_queue_on_commit(event_ids=[delivery.event_id])
    return True
