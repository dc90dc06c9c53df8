import logging

from celery import shared_task

from apps.core.logging import work_log

from . import services

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, soft_time_limit=100, time_limit=120)
def blacklist_flush_task() -> int:
    applied = services.blacklist_flush()
    work_log(logger, applied, "blacklist-flush: %d blacklist actions stored")
    return applied


@shared_task(acks_late=True, soft_time_limit=280, time_limit=300)
def abuse_sweep_task() -> int:
    listed = services.abuse_sweep()
    work_log(logger, listed, "abuse-sweep: %d numbers blacklisted over the abuse threshold")
    return listed


@shared_task(acks_late=True, soft_time_limit=100, time_limit=120)
def blacklist_expire_task() -> int:
    lifted = services.blacklist_expire()
    work_log(logger, lifted, "blacklist-expire: %d expired blacklistings lifted")
    return lifted
