"""Django settings, read from the environment (see README "Configuration").

Defaults are the safe ones: debug is off unless DJANGO_DEBUG=1 (``make run`` sets it),
and outside debug the process refuses to start without a real DJANGO_SECRET_KEY.
Production sets DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS and DATABASE_URL.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from apps.core.crypto import dev_key_load, encryption_keys_check
from smsbridge.startup_checks import secret_key_problem

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if DEBUG and not SECRET_KEY:
    SECRET_KEY = "dev-only-insecure-secret-key-change-me"  # noqa: S105 - development default
elif not DEBUG and (_problem := secret_key_problem(SECRET_KEY)):
    # Every process (web, worker, beat, flower, manage.py) loads these settings first.
    raise ImproperlyConfigured(
        f"DJANGO_SECRET_KEY {_problem}. Set a long random one, e.g. "
        '`python -c "import secrets; print(secrets.token_urlsafe(50))"`, or DJANGO_DEBUG=1 for development.'
    )
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "apps.core",
    "apps.clients",
    "apps.inbound",
    "apps.onboarding",
    "apps.abuse",
    "apps.audit",
    "apps.messaging",
    "apps.otp",
    "apps.operations",  # the top floor: dashboard and cross-app commands
    "axes",
]

MIDDLEWARE = [
    "apps.core.metrics.MetricsMiddleware",
    "apps.core.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # The admin's stack below, for /admin/ and /static/ only: API requests skip it (a
    # tenth to a fifth of an API request, measured; docs/benchmark.md).
    "apps.core.middleware.AdminMiddleware",
]
ADMIN_MIDDLEWARE = [
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its 429 answer.
    "axes.middleware.AxesMiddleware",
]
# The admin's and axes' checks look for their middleware in MIDDLEWARE; it runs from
# ADMIN_MIDDLEWARE, which apps.core.middleware.admin_middleware_check checks instead.
SILENCED_SYSTEM_CHECKS = ["admin.E408", "admin.E409", "admin.E410", "axes.W002"]

# The admin login: after AXES_FAILURE_LIMIT wrong passwords for one username from one
# address, that pair is refused for AXES_COOLOFF_TIME (a password guesser's budget drops
# from unlimited to a handful per quarter hour, and nobody can lock an operator out from
# another address). Attempts are kept in PostgreSQL and shown in the admin.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "apps.core.middleware.client_ip"

ROOT_URLCONF = "smsbridge.urls"
WSGI_APPLICATION = "smsbridge.wsgi.application"
ASGI_APPLICATION = "smsbridge.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# DATABASE_URL unset: an embedded SQLite file so `make run` needs nothing but Redis.
# Tests and production use PostgreSQL.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'smsbridge.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A hung database must never hang a worker forever.
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env_int("DATABASE_CONNECT_TIMEOUT", 3)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: four roles on their own DB indexes (data, broker, results, cache).
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/1")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", "redis://127.0.0.1:6379/2")
CACHE_URL = os.environ.get("CACHE_URL", "redis://127.0.0.1:6379/3")
REDIS_KEY_PREFIX = os.environ.get("REDIS_KEY_PREFIX", "")
# Hot-path requests must fail fast, not hang, when Redis is unreachable.
REDIS_SOCKET_TIMEOUT = float(os.environ.get("REDIS_SOCKET_TIMEOUT", "0.5"))
REDIS_CONNECT_TIMEOUT = float(os.environ.get("REDIS_CONNECT_TIMEOUT", "0.5"))
# After a data-Redis time-out or connection error, each process answers 503 at once for
# this long, then lets one request probe Redis again (apps/core/redis.py RedisBreaker).
REDIS_BREAKER_OPEN_SECONDS = env_float("REDIS_BREAKER_OPEN_SECONDS", 2.0)
# /health's own Redis time-out: it must answer within 200 ms whatever state Redis is in.
HEALTH_REDIS_TIMEOUT = env_float("HEALTH_REDIS_TIMEOUT", 0.1)

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": CACHE_URL,
        "KEY_PREFIX": REDIS_KEY_PREFIX or "smsbridge",
        "OPTIONS": {
            "SOCKET_CONNECT_TIMEOUT": REDIS_CONNECT_TIMEOUT,
            "SOCKET_TIMEOUT": REDIS_SOCKET_TIMEOUT,
            # A cache outage degrades to the database, never to an error.
            "IGNORE_EXCEPTIONS": True,
            # JSON, never pickle: whoever can write to Redis must not be able to run code here.
            "SERIALIZER": "django_redis.serializers.json.JSONSerializer",
        },
    }
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

# Phone numbers: the home country's numbers are keyed by their national number.
DEFAULT_REGION = os.environ.get("DEFAULT_REGION", "IN").upper()
# The number people text ONBOARD:<hash> to (shown as sms_to and in sms_link).
SMS_RECEIVING_NUMBER = os.environ.get("SMS_RECEIVING_NUMBER", "+919000000000")

# Limits on what a request may carry: bodies over 64 KiB get 413.
MAX_REQUEST_BODY_BYTES = env_int("MAX_REQUEST_BODY_BYTES", 64 * 1024)
# POST /notifications carries an email body of up to 64 KiB, which JSON escaping can grow.
NOTIFICATION_MAX_REQUEST_BODY_BYTES = env_int("NOTIFICATION_MAX_REQUEST_BODY_BYTES", 256 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(MAX_REQUEST_BODY_BYTES, NOTIFICATION_MAX_REQUEST_BODY_BYTES)
# The admin takes CSV uploads (blacklist import); files stream to disk past 2.5 MB.
ADMIN_MAX_REQUEST_BODY_BYTES = env_int("ADMIN_MAX_REQUEST_BODY_BYTES", 10 * 1024 * 1024)
# Allowed clock skew for signed gateway deliveries (SMS Gateway for Android).
GATEWAY_SIGNATURE_TOLERANCE_SECONDS = env_int("GATEWAY_SIGNATURE_TOLERANCE_SECONDS", 300)
# How long a process trusts its in-memory copy of an API key or gateway record;
# a revoked key stops working everywhere within this many seconds.
CREDENTIAL_LOCAL_CACHE_SECONDS = float(os.environ.get("CREDENTIAL_LOCAL_CACHE_SECONDS", "5"))
# Gateway HMAC keys, Twilio auth tokens and client webhook secrets are encrypted at rest
# with these Fernet keys (comma-separated: the first encrypts, all decrypt, for rotation).
# Debug without it: a development key made once in var/dev_secrets.key.
SECRETS_ENCRYPTION_KEYS = env_list("SECRETS_ENCRYPTION_KEY", "")
if not SECRETS_ENCRYPTION_KEYS:
    if not DEBUG:
        raise RuntimeError("SECRETS_ENCRYPTION_KEY must be set when DJANGO_DEBUG is off (a Fernet key)")
    SECRETS_ENCRYPTION_KEYS = [dev_key_load(BASE_DIR / "var" / "dev_secrets.key")]
encryption_keys_check(SECRETS_ENCRYPTION_KEYS)
# The key of the HMAC that keeps one-time codes in Redis (otp_hash): whoever reads Redis
# must not be able to test the 10^6 codes offline. Empty: derived from SECRET_KEY.
OTP_HMAC_KEY = os.environ.get("OTP_HMAC_KEY", "")
if OTP_HMAC_KEY and len(OTP_HMAC_KEY) < 32 and not DEBUG:
    raise ImproperlyConfigured(
        "OTP_HMAC_KEY must be at least 32 characters (or empty: derived from the secret key)."
    )
# How long a process trusts its in-memory copy of the system settings.
SYSTEM_SETTINGS_LOCAL_CACHE_SECONDS = float(os.environ.get("SYSTEM_SETTINGS_LOCAL_CACHE_SECONDS", "2"))

# Background work cadence (seconds); celeryconfig builds the beat schedule from these.
INBOUND_BATCH_SIZE = env_int("INBOUND_BATCH_SIZE", 200)
# After a batch that emptied the inbound queue, the woken worker waits this long (seconds)
# for the next SMS to gather before it claims again: larger batches under a steady flow,
# at most this much added to a verdict (apps.core.queues.Wake).
INBOUND_BATCH_WAIT = float(os.environ.get("INBOUND_BATCH_WAIT", "0.02"))
INBOUND_SAFETY_INTERVAL = float(os.environ.get("INBOUND_SAFETY_INTERVAL", "5"))
OUT_SMS_FLUSH_INTERVAL = float(os.environ.get("OUT_SMS_FLUSH_INTERVAL", "5"))
# How often SMS kept in PostgreSQL during a Redis outage are moved into the Redis queue.
SMS_OUTBOX_FLUSH_INTERVAL = env_float("SMS_OUTBOX_FLUSH_INTERVAL", 5.0)
# Durability of an acknowledged inbound SMS beyond appendfsync everysec (docs/deployment.md):
# with N > 0 the receive endpoints WAIT for N replicas (up to INBOUND_ACK_WAIT_MS) before
# answering, and keep the SMS in the PostgreSQL outbox too when fewer confirmed in time.
INBOUND_ACK_REPLICAS = env_int("INBOUND_ACK_REPLICAS", 0)
INBOUND_ACK_WAIT_MS = env_int("INBOUND_ACK_WAIT_MS", 100)
# Events per drain batch, one COPY and one commit each. Flushing 50,000 events here, batches
# of 5000 ran about 30 % faster than 2000 (fewer commits) and still take under a second.
DRAIN_BATCH_SIZE = env_int("DRAIN_BATCH_SIZE", 5000)
MONITOR_FLUSH_INTERVAL = float(os.environ.get("MONITOR_FLUSH_INTERVAL", "5"))
BLACKLIST_FLUSH_INTERVAL = float(os.environ.get("BLACKLIST_FLUSH_INTERVAL", "5"))
ABUSE_SWEEP_INTERVAL = float(os.environ.get("ABUSE_SWEEP_INTERVAL", "60"))
# Redis lost its data -> sets rebuilt from PostgreSQL within this many seconds.
REDIS_REPAIR_INTERVAL = float(os.environ.get("REDIS_REPAIR_INTERVAL", "15"))
AUDIT_PURGE_INTERVAL = float(os.environ.get("AUDIT_PURGE_INTERVAL", "3600"))
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 90)
# Only one beat schedules at a time (a Redis lock, apps/core/beat.py); a standby takes
# over within this many seconds of the active one dying.
BEAT_LOCK_TIMEOUT = env_int("BEAT_LOCK_TIMEOUT", 30)

# /metrics: scrapers send METRICS_TOKEN as a bearer token. Without one it is open only
# with METRICS_PUBLIC=1 (scraped from a private network) or in debug; else refused.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_PUBLIC = env_bool("METRICS_PUBLIC", False)

# Client callbacks (Standard Webhooks).
# Total time one delivery may take, connect to last byte read (a slow-drip server is cut off).
CALLBACK_TIMEOUT_SECONDS = float(os.environ.get("CALLBACK_TIMEOUT_SECONDS", "5"))
# 1 lets callbacks reach loopback/private/link-local addresses and plain http (development,
# tests); off, such destinations are refused after DNS resolution, at connect time.
CALLBACK_ALLOW_PRIVATE_NETWORKS = env_bool("CALLBACK_ALLOW_PRIVATE_NETWORKS", False)
CALLBACK_MAX_ATTEMPTS = env_int("CALLBACK_MAX_ATTEMPTS", 8)
CALLBACK_BACKOFF_BASE_SECONDS = float(os.environ.get("CALLBACK_BACKOFF_BASE_SECONDS", "30"))
CALLBACK_DISPATCH_INTERVAL = float(os.environ.get("CALLBACK_DISPATCH_INTERVAL", "5"))
# Worker and beat liveness: beat queues a heartbeat task this often; /health calls the
# background workers down when none has run for HEARTBEAT_STALE_AFTER seconds.
HEARTBEAT_INTERVAL = float(os.environ.get("HEARTBEAT_INTERVAL", "10"))
HEARTBEAT_STALE_AFTER = float(os.environ.get("HEARTBEAT_STALE_AFTER", "45"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "apps.core.exceptions.exception_handler",
    # JSON first and cheap (orjson, no Accept parsing for JSON clients); operators'
    # browsers still get the browsable API at the same URLs (apps/core/rendering.py).
    "DEFAULT_RENDERER_CLASSES": [
        "apps.core.rendering.OrjsonRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "apps.core.rendering.ApiContentNegotiation",
    "DEFAULT_PARSER_CLASSES": ["apps.core.rendering.OrjsonParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

from apps.core.schema_components import GATEWAY_SECURITY_SCHEMES  # noqa: E402 - plain data

SPECTACULAR_SETTINGS = {
    "TITLE": "SMS Bridge API",
    "DESCRIPTION": "Prove that a person owns a mobile number by reverse SMS.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "APPEND_COMPONENTS": {"securitySchemes": GATEWAY_SECURITY_SCHEMES},
    "ENUM_NAME_OVERRIDES": {
        "NumberStatusEnum": ["pending", "verified", "expired", "blacklisted", "unknown"],
        "NotificationStatusEnum": ["queued", "sending", "sent", "delivered", "failed"],
        "ChannelEnum": ["sms", "email"],
        "EventTypeEnum": "apps.core.history.EVENT_TYPES",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Behind a TLS-terminating proxy or load balancer: trust its X-Forwarded-Proto/Host,
# so absolute URLs (and so Twilio's signature check) see the URL the gateway called.
# Behind it, cookies travel only over HTTPS and plain-HTTP requests are redirected, except
# the paths that orchestrators and scrapers call on the pod itself, over plain HTTP.
BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY", False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^health$", r"^health/live$", r"^health/ready$", r"^metrics$"]
# Optional public base URL (https://bridge.example.com): Twilio signatures are checked
# against it when the proxy rewrites the host or path, and sending gateways are given
# delivery-receipt URLs under it (without it, sent messages get no receipts).
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "").rstrip("/")

# Outbound messages: how long one provider call may take, how many a worker sends at once,
# and how many it takes from the queue per batch.
NOTIFICATION_SEND_TIMEOUT = env_float("NOTIFICATION_SEND_TIMEOUT", 10.0)
NOTIFICATION_SEND_CONCURRENCY = env_int("NOTIFICATION_SEND_CONCURRENCY", 8)
NOTIFICATION_BATCH_SIZE = env_int("NOTIFICATION_BATCH_SIZE", 50)
NOTIFICATION_SAFETY_INTERVAL = env_float("NOTIFICATION_SAFETY_INTERVAL", 5.0)
NOTIFICATION_EVENTS_FLUSH_INTERVAL = env_float("NOTIFICATION_EVENTS_FLUSH_INTERVAL", 5.0)

# The event history: every event is appended to Redis streams in the round trip that makes
# it, each client's own (GET /events) and the operators' feed of all (the admin live feed).
# Lengths are approximate: Redis trims whole blocks of about 100 entries.
EVENT_HISTORY_LENGTH = env_int("EVENT_HISTORY_LENGTH", 10_000)
EVENT_FEED_LENGTH = env_int("EVENT_FEED_LENGTH", 100_000)
# GET /events/stream: how long one connection follows before the server ends it (the client
# reconnects with Last-Event-ID), the keep-alive comment interval, and how many follow at
# once in each web process (each holds a server thread; more are answered 503).
EVENT_STREAM_MAX_SECONDS = env_float("EVENT_STREAM_MAX_SECONDS", 300.0)
EVENT_STREAM_KEEPALIVE_SECONDS = env_float("EVENT_STREAM_KEEPALIVE_SECONDS", 15.0)
EVENT_STREAM_MAX_CONNECTIONS = env_int("EVENT_STREAM_MAX_CONNECTIONS", 2)

# The smtp gateway sends through Django's email backend with these standard settings
# (a gateway's own send URL, user and password, when set, override host, port and login).
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = NOTIFICATION_SEND_TIMEOUT
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "sms-bridge@localhost")

# Logs: JSON lines in production, plain lines in development (LOG_FORMAT overrides);
# mobile numbers are masked in every record. One handler, on the root: every record is
# written once. Celery's per-tick lines for the periodic tasks are DEBUG (apps/core/logging.py).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain" if DEBUG else "json")
_TICK_LOGGERS = ("celery.beat", "celery.worker.strategy", "celery.app.trace")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "mask_mobiles": {"()": "apps.core.logging.MaskMobileFilter"},
        "housekeeping_chatter": {"()": "apps.core.logging.HousekeepingChatterFilter"},
    },
    "formatters": {
        "plain": {
            "()": "apps.core.logging.PlainFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
        "json": {"()": "apps.core.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["mask_mobiles"]}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Django's defaults give "django" a console handler of its own in debug (unmasked,
        # and a second copy of every 500 traceback next to the root's) and a mail_admins
        # handler; listing the logger without handlers removes them, its records go to the root.
        "django": {"level": "INFO"},
        **{name: {"filters": ["housekeeping_chatter"]} for name in _TICK_LOGGERS},
    },
}
