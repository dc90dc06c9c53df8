import logging

from celery import shared_task
from django.conf import settings

from apps.core import keys
from apps.core.logging import work_log
from apps.core.redis import get_redis
from apps.core.repair import redis_repair

from .services.pipeline import sms_validate_pending
from .services.verified import out_sms_flush

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
def sms_validate_task() -> dict[str, int]:
    judged = sms_validate_pending(linger=settings.INBOUND_BATCH_WAIT)
    work_log(logger, judged, "sms-validate: %d SMS judged")
    # Only when a number was verified: a run that judged none valid has nothing to store,
    # and queueing the flush anyway doubled the tasks under a flood of invalid SMS.
    if judged and get_redis().llen(keys.out_sms_queue()):
        out_sms_flush_task.delay()
    return {"judged": judged}


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
def out_sms_flush_task() -> int:
    stored = out_sms_flush()
    work_log(logger, stored, "out-sms-flush: %d verified numbers stored")
    return stored


@shared_task(acks_late=True, expires=60, soft_time_limit=280, time_limit=300)
def redis_repair_task() -> dict[str, float] | None:
    """The repair itself is core's (``apps.core.repair``); this app owns its task because
    register, status and the pipeline are what wait on it."""
    report = redis_repair()
    return report.as_dict() if report else None
