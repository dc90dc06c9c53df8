from celery import shared_task

from . import webhooks


@shared_task(acks_late=True, soft_time_limit=30, time_limit=40)
def callback_deliver_task(delivery_id: int) -> str:
    return webhooks.callback_deliver(delivery_id=delivery_id)


@shared_task(acks_late=True, expires=30, soft_time_limit=50, time_limit=60)
def callback_dispatch_due_task() -> int:
    """Beat: send every delivery whose next attempt is due (retries, and any missed first try)."""
    due = webhooks.callbacks_due()
    for delivery_id in due:
        callback_deliver_task.delay(delivery_id)
    return len(due)
