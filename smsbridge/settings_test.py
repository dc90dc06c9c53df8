"""Settings for the test suite: PostgreSQL, and Redis DB indexes of the suite's own.

The defaults below are set before the main settings read the environment, so a plain
``pytest`` and the Celery worker processes the suite starts see the same configuration.
"""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/smsbridge")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/10")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/11")
os.environ.setdefault("CELERY_RESULT_BACKEND", "redis://127.0.0.1:6379/12")
os.environ.setdefault("CACHE_URL", "redis://127.0.0.1:6379/13")
os.environ.setdefault("CALLBACK_BACKOFF_BASE_SECONDS", "0.2")
os.environ.setdefault("INBOUND_SAFETY_INTERVAL", "1")
os.environ.setdefault("OUT_SMS_FLUSH_INTERVAL", "1")
os.environ.setdefault("SMS_OUTBOX_FLUSH_INTERVAL", "1")
os.environ.setdefault("CALLBACK_DISPATCH_INTERVAL", "0.5")
os.environ.setdefault("CALLBACK_MAX_ATTEMPTS", "3")
os.environ.setdefault("HEARTBEAT_INTERVAL", "1")
os.environ.setdefault("MONITOR_FLUSH_INTERVAL", "1")
os.environ.setdefault("BLACKLIST_FLUSH_INTERVAL", "1")
os.environ.setdefault("REDIS_REPAIR_INTERVAL", "1")
os.environ.setdefault("BEAT_LOCK_TIMEOUT", "6")
os.environ.setdefault("NOTIFICATION_SAFETY_INTERVAL", "0.5")
os.environ.setdefault("NOTIFICATION_EVENTS_FLUSH_INTERVAL", "0.5")
os.environ.setdefault("NOTIFICATION_SEND_TIMEOUT", "3")
# The suite runs with debug off, as production does: a key long enough to pass the start
# check, callbacks to the local test servers, and /metrics open (a test may set a token).
os.environ.setdefault("DJANGO_SECRET_KEY", "test-suite-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("CALLBACK_ALLOW_PRIVATE_NETWORKS", "1")
os.environ.setdefault("METRICS_PUBLIC", "1")
# A fixed Fernet key for the suite (and the processes it starts); never used outside tests.
os.environ.setdefault("SECRETS_ENCRYPTION_KEY", "dGVzdC1vbmx5LWZlcm5ldC1rZXktMDEyMzQ1Njc4OWE=")

from .settings import *  # noqa: F403

# Static files come from the apps' folders in tests; no collectstatic needed.
STATIC_ROOT = None  # type: ignore[assignment]
WHITENOISE_USE_FINDERS = True

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
