import logging

from celery import shared_task
from celery.exceptions import Retry

from apps.core.logging import work_log

from . import webhooks
from .models import CallbackDelivery

logger = logging.getLogger(__name__)


class CallbackAttemptFailed(Exception):
    """A callback attempt that got no 2xx answer: the task ends with it, so Celery and
    Flower count failed and retried attempts truly. The delivery row is the record."""


@shared_task(acks_late=True, soft_time_limit=30, time_limit=40, throws=(CallbackAttemptFailed,))
def callback_deliver_task(delivery_id: int) -> str:
    """One attempt. A failed one with tries left ends as RETRY, the last one as FAILURE.

    The Retry only records that another attempt is coming: beat's callback-dispatch sends
    it at the delivery's next_attempt_at, and Celery re-queues nothing itself, so the
    claim in PostgreSQL stays the one thing that decides whether an attempt is sent.
    """
    outcome = webhooks.callback_attempt(delivery_id=delivery_id)
    if outcome.status in (CallbackDelivery.Status.DELIVERED, "not_due"):
        return outcome.status
    failure = CallbackAttemptFailed(f"delivery {delivery_id}, attempt {outcome.attempts}: {outcome.error}")
    if outcome.status == CallbackDelivery.Status.FAILED:
        raise failure
    raise Retry(exc=failure, when=outcome.next_attempt_at)


@shared_task(acks_late=True, expires=30, soft_time_limit=50, time_limit=60)
def callback_dispatch_due_task() -> int:
    """Beat: send every delivery whose next attempt is due (retries, and any missed first try)."""
    due = webhooks.callbacks_due()
    for delivery_id in due:
        callback_deliver_task.delay(delivery_id)
    work_log(logger, len(due), "callback-dispatch: %d due callback attempts queued")
    return len(due)
