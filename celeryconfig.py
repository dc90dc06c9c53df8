"""Celery configuration (lowercase keys), built from the Django settings.

At-least-once delivery: tasks ack late and are re-queued when a worker dies; every task
is idempotent, so a redelivery is harmless. Time limits stay below the broker's
visibility timeout, so a running task is never handed to a second worker.
"""

from django.conf import settings
from kombu import Queue

broker_url = settings.CELERY_BROKER_URL
result_backend = settings.CELERY_RESULT_BACKEND
result_expires = 3600

task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
timezone = "UTC"
enable_utc = True

task_acks_late = True
task_reject_on_worker_lost = True
worker_prefetch_multiplier = 1
task_soft_time_limit = 120
task_time_limit = 150
# Socket timeouts and health checks so that a Redis restart or failover surfaces as an
# error (and a reconnect) instead of a worker or beat blocked forever on a dead socket.
broker_transport_options = {
    "visibility_timeout": 600,
    "socket_timeout": 10,
    "socket_connect_timeout": 3,
    "socket_keepalive": True,
    "retry_on_timeout": True,
    "health_check_interval": 10,
}
redis_socket_timeout = 10
redis_socket_connect_timeout = 3
redis_retry_on_timeout = True
redis_backend_health_check_interval = 10
broker_connection_retry_on_startup = True
# A lost broker connection is retried for as long as it takes (Celery's default gives up
# after 100 tries and the worker exits): a Redis restart, a failover or a Redis still
# "loading the dataset" (BusyLoadingError, a connection error to kombu) is transient.
broker_connection_max_retries = None
# Publishing from a web request must fail fast, not hang, when the broker is away.
broker_connection_timeout = 2
task_publish_retry_policy = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
# Task events for Flower; off in the housekeeping pool and for beat's sends (smsbridge/celery.py).
worker_send_task_events = True

# Callbacks wait on other people's servers (up to CALLBACK_TIMEOUT_SECONDS each), so they
# get a queue and a worker pool of their own: a slow client never delays the validation
# batches and drains on "celery". Beat's ticks go to "housekeeping", served by a pool that
# sends no task events (smsbridge/celery.py): a dozen timer tasks a minute that mostly
# find nothing to do would otherwise bury, in Flower, the work triggered by SMS and the
# callbacks. A worker started without -Q consumes all three.
HOUSEKEEPING_QUEUE = "housekeeping"
task_default_queue = "celery"
task_queues = (Queue("celery"), Queue("callbacks"), Queue(HOUSEKEEPING_QUEUE))
# Sending notifications waits on providers' APIs the same way, so it shares that pool.
task_routes = {
    "apps.clients.tasks.callback_deliver_task": {"queue": "callbacks"},
    "apps.messaging.tasks.notifications_send_task": {"queue": "callbacks"},
}

# Keep Django's LOGGING (JSON lines, masked numbers) in workers and beat too.
worker_hijack_root_logger = False

# Several beat processes may run; only the holder of a Redis lock sends tasks, and a
# standby takes over within BEAT_LOCK_TIMEOUT of its death (apps/core/beat.py).
beat_scheduler = "apps.core.beat:SingleBeatScheduler"
task_send_sent_event = True


def _every(seconds: float, task: str) -> dict:
    # A tick not picked up before the next one is pointless: expire it. The queue is set
    # per tick, not per task, so the same task queued by real work (a validation woken by
    # an SMS) stays on "celery" and in Flower.
    options = {"expires": max(seconds, 1.0), "queue": HOUSEKEEPING_QUEUE}
    return {"task": task, "schedule": seconds, "options": options}


beat_schedule = {
    "sms-validate": _every(settings.INBOUND_SAFETY_INTERVAL, "apps.onboarding.tasks.sms_validate_task"),
    "out-sms-flush": _every(settings.OUT_SMS_FLUSH_INTERVAL, "apps.onboarding.tasks.out_sms_flush_task"),
    "sms-outbox-flush": _every(
        settings.SMS_OUTBOX_FLUSH_INTERVAL, "apps.inbound.tasks.sms_outbox_flush_task"
    ),
    "callback-dispatch": _every(
        settings.CALLBACK_DISPATCH_INTERVAL, "apps.clients.tasks.callback_dispatch_due_task"
    ),
    "heartbeat": _every(settings.HEARTBEAT_INTERVAL, "apps.core.tasks.heartbeat_task"),
    "monitor-flush": _every(settings.MONITOR_FLUSH_INTERVAL, "apps.audit.tasks.monitor_flush_task"),
    "blacklist-flush": _every(settings.BLACKLIST_FLUSH_INTERVAL, "apps.abuse.tasks.blacklist_flush_task"),
    "abuse-sweep": _every(settings.ABUSE_SWEEP_INTERVAL, "apps.abuse.tasks.abuse_sweep_task"),
    "blacklist-expire": _every(settings.ABUSE_SWEEP_INTERVAL, "apps.abuse.tasks.blacklist_expire_task"),
    "redis-repair": _every(settings.REDIS_REPAIR_INTERVAL, "apps.onboarding.tasks.redis_repair_task"),
    "audit-purge": _every(settings.AUDIT_PURGE_INTERVAL, "apps.audit.tasks.audit_purge_task"),
    "notifications-send": _every(
        settings.NOTIFICATION_SAFETY_INTERVAL, "apps.messaging.tasks.notifications_send_task"
    ),
    "notification-events-flush": _every(
        settings.NOTIFICATION_EVENTS_FLUSH_INTERVAL, "apps.messaging.tasks.notification_events_flush_task"
    ),
}
