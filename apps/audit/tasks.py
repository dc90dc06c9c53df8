import logging

from celery import shared_task

from apps.core.logging import work_log

from . import services

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, soft_time_limit=100, time_limit=120)
def monitor_flush_task() -> int:
    stored = services.monitor_flush()
    work_log(logger, stored, "monitor-flush: %d monitor events stored")
    return stored


@shared_task(acks_late=True, soft_time_limit=280, time_limit=300)
def audit_purge_task() -> int:
    deleted = services.audit_purge()
    work_log(logger, deleted, "audit-purge: %d old monitor events deleted")
    return deleted
