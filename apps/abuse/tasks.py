from celery import shared_task

from . import services


@shared_task(acks_late=True, soft_time_limit=100, time_limit=120)
def blacklist_flush_task() -> int:
    return services.blacklist_flush()


@shared_task(acks_late=True, soft_time_limit=280, time_limit=300)
def abuse_sweep_task() -> int:
    return services.abuse_sweep()


@shared_task(acks_late=True, soft_time_limit=100, time_limit=120)
def blacklist_expire_task() -> int:
    return services.blacklist_expire()
