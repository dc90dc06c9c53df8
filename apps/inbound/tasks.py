import logging

from celery import shared_task

from apps.core.logging import work_log

from . import outbox

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, soft_time_limit=100, time_limit=120)
def sms_outbox_flush_task() -> int:
    queued = outbox.sms_outbox_flush()
    work_log(logger, queued, "sms-outbox-flush: %d SMS kept during a Redis outage queued")
    return queued
