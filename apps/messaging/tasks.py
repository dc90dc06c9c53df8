import logging

from celery import shared_task

from apps.core.logging import work_log

from .services.sender import notifications_send_pending
from .services.store import notification_events_flush

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, soft_time_limit=110, time_limit=120)
def notifications_send_task() -> int:
    """Send what is queued (and what is due again); woken by POST /notifications, and by beat."""
    handled = notifications_send_pending()
    work_log(logger, handled, "notifications-send: %d notifications handled")
    if handled:
        notification_events_flush_task.delay()
    return handled


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
def notification_events_flush_task() -> int:
    stored = notification_events_flush()
    work_log(logger, stored, "notification-events-flush: %d changes stored")
    return stored
