import logging

from celery import Task, shared_task
from kombu.exceptions import OperationalError

from apps.core.logging import work_log

from .services.pipeline import sms_validate_pending
from .services.repair import redis_repair
from .services.verified import out_sms_flush

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
def sms_validate_task() -> dict[str, int]:
    judged = sms_validate_pending()
    work_log(logger, judged, "sms-validate: %d SMS judged")
    if judged:
        out_sms_flush_task.delay()
    return {"judged": judged}


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
def out_sms_flush_task() -> int:
    stored = out_sms_flush()
    work_log(logger, stored, "out-sms-flush: %d verified numbers stored")
    return stored


def sms_validate_kick() -> None:
    """Wake a validation worker now; if the broker is down, beat's next tick will."""
    _kick(sms_validate_task)


@shared_task(acks_late=True, expires=60, soft_time_limit=280, time_limit=300)
def redis_repair_task() -> dict[str, float] | None:
    report = redis_repair()
    return report.__dict__ if report else None


def redis_repair_kick() -> None:
    _kick(redis_repair_task)


def _kick(task: Task) -> None:
    """Queue ``task`` from a web request without waiting on a missing broker; beat covers a miss."""
    try:
        task.apply_async(retry=False)
    except OperationalError as exc:
        logger.warning("could not queue %s, beat will run it: %s", task.name, exc)
