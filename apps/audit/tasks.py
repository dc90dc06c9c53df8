from celery import shared_task

from . import services


@shared_task(acks_late=True, soft_time_limit=100, time_limit=120)
def monitor_flush_task() -> int:
    return services.monitor_flush()


@shared_task(acks_late=True, soft_time_limit=280, time_limit=300)
def audit_purge_task() -> int:
    return services.audit_purge()
