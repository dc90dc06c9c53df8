import logging

from celery import shared_task
from kombu.exceptions import OperationalError

from .services.pipeline import sms_validate_pending
from .services.verified import out_sms_flush

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
def sms_validate_task() -> dict:
    outcome = sms_validate_pending()
    if outcome.valid:
        out_sms_flush_task.delay()
    return {"judged": outcome.judged, "valid": outcome.valid}


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
def out_sms_flush_task() -> int:
    return out_sms_flush()


def sms_validate_kick() -> None:
    """Wake a validation worker now; if the broker is down, beat's next tick will."""
    try:
        sms_validate_task.apply_async(retry=False)
    except OperationalError as exc:
        logger.warning("could not queue sms_validate_task, beat will pick the SMS up: %s", exc)
