"""Every Redis key name the bridge uses, and nowhere else.

Names of the hot-path keys are part of the external contract (operators and tools read
them); the rest follow the same
``noun:qualifier`` convention. ``REDIS_KEY_PREFIX`` (empty by default) namespaces all.
Every temporary key's TTL is defined here beside its name.
"""

from django.conf import settings


def _k(name: str) -> str:
    return f"{settings.REDIS_KEY_PREFIX}{name}"


# --- contract keys --------------------------------------------------------------------
def onboard_hash(mobile: str) -> str:
    return _k(f"onboard_hash:{mobile}")


def out_sms_numbers() -> str:
    return _k("out_sms_numbers")


def blacklist_mobiles() -> str:
    return _k("blacklist_mobiles")


def abuse_counter(mobile: str) -> str:
    return _k(f"abuse_counter:{mobile}")


ABUSE_COUNTER_TTL = 86400


def sms_monitor_queue() -> str:
    return _k("sms_monitor_queue")


def blacklist_queue() -> str:
    return _k("blacklist_queue")


# --- event history ---------------------------------------------------------------------
def event_feed() -> str:
    """STREAM of every event, for operators (the admin live feed); about
    EVENT_FEED_LENGTH entries are kept."""
    return _k("event_feed")


def event_history(client_id: str) -> str:
    """STREAM of one client's own events (``GET /events``); about EVENT_HISTORY_LENGTH
    entries are kept. ``event_history("")`` is the prefix Lua scripts add a client id to."""
    return _k(f"event_history:{client_id}")


# --- abuse sweep ------------------------------------------------------------------------
def abuse_offenders() -> str:
    """Numbers whose counter reached abuse_threshold, noted by the pipeline for the sweep."""
    return _k("abuse_offenders")


def abuse_scan_threshold() -> str:
    """The abuse_threshold of the sweep's last full scan: a lower one needs a new scan."""
    return _k("abuse_scan_threshold")


# --- onboarding ------------------------------------------------------------------------
def onboard_regs(mobile: str) -> str:
    """HASH onboarding hash -> JSON of one registration of ``mobile`` (a contract key).

    The JSON is ``{registration_id, client_id, reference, expires_at}`` (expires_at in epoch
    ms); an ended registration also carries ``state`` (``verified`` or ``expired``) and is
    kept so that its client can still read how it ended. The key lives until the newest
    registration expires, and at most ONBOARD_ENDED_KEEP_MS past the end of the last one.
    """
    return _k(f"onboard_regs:{mobile}")


ONBOARD_MAX_PENDING = 5  # pending registrations per number; a sixth ends the oldest
ONBOARD_ENDED_KEEP_MS = 86400 * 1000


def register_client_rate(client_id: str) -> str:
    """GCRA state of a client's register budget (every register call counts)."""
    return _k(f"rate:register:{client_id}")


def register_client_number_rate(client_id: str, mobile: str) -> str:
    """GCRA state of one client's registrations of one number."""
    return _k(f"rate:register:{client_id}:{mobile}")


def register_number_rate(mobile: str) -> str:
    """GCRA state of a number's registrations by all clients (the much higher ceiling)."""
    return _k(f"rate:register_number:{mobile}")


# --- credentials (rebuilt from PostgreSQL when missing) -------------------------------
def api_keys() -> str:
    """HASH sha256(api key) -> client_id, for authentication without SQL."""
    return _k("api_keys")


def gateways() -> str:
    """HASH gateway_id -> JSON of an active gateway: kind, scope and its secrets in force,
    hashed (bearer tokens) or Fernet-encrypted (HMAC keys, Twilio auth tokens), never plain."""
    return _k("gateways")


def gateway_tokens() -> str:
    """HASH sha256(native gateway token) -> gateway_id."""
    return _k("gateway_tokens")


def directory_rebuilds(directory: str) -> str:
    """ZSET rebuild id -> deadline of the rebuilds of credential mirror ``directory`` under way."""
    return f"{directory}:rebuilds"


def directory_rebuild_aside(directory: str, rebuild_id: str) -> str:
    """HASH: the new copy of ``directory`` being built, renamed over it when complete."""
    return f"{directory}:rebuild:{rebuild_id}"


def directory_rebuild_changes(directory: str, rebuild_id: str) -> str:
    """HASH field -> "+value" or "-": changes made while the rebuild read PostgreSQL."""
    return f"{directory}:rebuild:{rebuild_id}:changes"


DIRECTORY_REBUILD_TTL = 300


# --- inbound SMS -----------------------------------------------------------------------
def sms_inbound_queue() -> str:
    return _k("sms_inbound_queue")


def sms_dedupe(gateway_id: str, message_id: str) -> str:
    return _k(f"sms_dedupe:{gateway_id}:{message_id}")


SMS_DEDUPE_TTL = 7 * 86400


def sms_inbound_kick() -> str:
    """Set for a moment after a validation task is queued, so a burst queues one task."""
    return _k("sms_inbound_kick")


SMS_INBOUND_KICK_TTL_MS = 200


def sms_verdict(sms_uuid: str) -> str:
    """JSON {status, reason} of a judged SMS, for simulate_sms and operators."""
    return _k(f"sms_verdict:{sms_uuid}")


SMS_VERDICT_TTL = 86400


def out_sms_queue() -> str:
    """LIST of verified SMS waiting to be written to PostgreSQL and called back."""
    return _k("out_sms_queue")


# --- outbound messages -------------------------------------------------------------------
def notification_queue() -> str:
    """LIST of notifications (JSON, with their id) waiting to be sent (a contract key)."""
    return _k("notification_queue")


def notification(notification_id: str) -> str:
    """HASH: the live status record of a notification, what GET /notifications/{id} reads
    (a contract key): client_id, channel, status, attempts, last_error, gateway_id,
    provider_id, seq (its changes so far), created_at, updated_at."""
    return _k(f"notification:{notification_id}")


NOTIFICATION_TTL = 7 * 86400


def notification_idempotency(client_id: str, key_digest: str) -> str:
    """STRING: the notification a client's idempotency key created (24 h)."""
    return _k(f"notification_idem:{client_id}:{key_digest}")


NOTIFICATION_IDEMPOTENCY_TTL = 86400


def notification_retry() -> str:
    """ZSET notification JSON -> when its next attempt is due (epoch ms)."""
    return _k("notification_retry")


def notification_events() -> str:
    """LIST of notification status changes (JSON) waiting for PostgreSQL."""
    return _k("notification_events")


def notification_ref(gateway_id: str, provider_id: str) -> str:
    """STRING: the notification a provider's message id belongs to, for delivery receipts."""
    return _k(f"notification_ref:{gateway_id}:{provider_id}")


def notification_kick() -> str:
    """Set for a moment after a send task is queued, so a burst queues one task."""
    return _k("notification_kick")


NOTIFICATION_KICK_TTL_MS = 200


def notify_client_rate(client_id: str) -> str:
    """GCRA state of a client's notification budget."""
    return _k(f"rate:notify:{client_id}")


def notify_destination_rate(client_id: str, destination_digest: str) -> str:
    """GCRA state of one client's notifications to one destination."""
    return _k(f"rate:notify:{client_id}:{destination_digest}")


def send_routes() -> str:
    """HASH "{channel}:{country code or *}" -> sending gateways on that route (rebuilt from PostgreSQL)."""
    return _k("send_routes")


def gateway_cooldown(gateway_id: str) -> str:
    """STRING set while a sending gateway that failed is skipped (PX: the cool-down)."""
    return _k(f"gateway_cooldown:{gateway_id}")


def gateway_failures(gateway_id: str) -> str:
    """INT: a sending gateway's failures in a row; each doubles its next cool-down."""
    return _k(f"gateway_failures:{gateway_id}")


GATEWAY_FAILURES_TTL = 3600


def metrics_notifications() -> str:
    """HASH "{gateway_id}:{outcome}" -> sends that ended so (sent, failed, error, delivered)."""
    return _k("metrics:notifications")


# --- one-time passwords ------------------------------------------------------------------
def otp(client_id: str, mobile: str) -> str:
    """STRING (JSON) ``{otp_hash, mobile_number, created_at, expires_at}`` of a client's active
    code for a number (a contract key); ``otp_hash`` is an HMAC keyed by a server secret."""
    return _k(f"otp:{client_id}:{mobile}")


def otp_attempts(client_id: str, mobile: str) -> str:
    """INT: failed checks of a client's codes for a number (a contract key); at
    ``otp_max_attempts`` the number is blocked for that client until the key expires."""
    return _k(f"otp:attempts:{client_id}:{mobile}")


def otp_request_client_rate(client_id: str) -> str:
    """GCRA state of a client's OTP request budget."""
    return _k(f"rate:otp_request:{client_id}")


def otp_request_number_rate(client_id: str, mobile: str) -> str:
    """GCRA state of one client's OTP requests for one number."""
    return _k(f"rate:otp_request:{client_id}:{mobile}")


def otp_request_ip_rate(client_id: str, ip: str) -> str:
    """GCRA state of one client's OTP requests from one end-user address (an IPv6 /64)."""
    return _k(f"rate:otp_request_ip:{client_id}:{ip}")


def otp_verify_client_rate(client_id: str) -> str:
    """GCRA state of a client's OTP verify budget."""
    return _k(f"rate:otp_verify:{client_id}")


def otp_verify_number_rate(client_id: str, mobile: str) -> str:
    """GCRA state of one client's OTP checks for one number."""
    return _k(f"rate:otp_verify:{client_id}:{mobile}")


def otp_verify_ip_rate(client_id: str, ip: str) -> str:
    """GCRA state of one client's OTP checks from one end-user address (an IPv6 /64)."""
    return _k(f"rate:otp_verify_ip:{client_id}:{ip}")


def otp_prefix_rate(client_id: str, prefix: str) -> str:
    """GCRA state of a client's codes to one destination prefix (the velocity rule)."""
    return _k(f"rate:otp_prefix:{client_id}:{prefix}")


def otp_conversion(client_id: str, prefix: str) -> str:
    """HASH "r:{bucket}"/"v:{bucket}" -> codes requested/verified to a prefix per 5-minute
    bucket of the last hour (the conversion watch)."""
    return _k(f"otp_conversion:{client_id}:{prefix}")


def otp_pending(client_id: str, prefix: str) -> str:
    """ZSET number -> expiry (epoch ms) of the codes to a prefix still unverified and alive:
    the conversion watch judges only codes that had their chance."""
    return _k(f"otp_pending:{client_id}:{prefix}")


OTP_CONVERSION_BUCKET_MS = 300_000
OTP_CONVERSION_BUCKETS = 12  # one hour
OTP_CONVERSION_TTL = 3900


def otp_prefix_block(client_id: str, prefix: str) -> str:
    """STRING set while a client's codes to a prefix are refused (the conversion watch
    tripped); its TTL is ``otp_prefix_cooldown_seconds``."""
    return _k(f"otp_prefix_block:{client_id}:{prefix}")


def otp_blocked_prefixes() -> str:
    """ZSET "{client_id}:{prefix}" -> end of its block (epoch ms), for the dashboard."""
    return _k("otp_blocked_prefixes")


def otp_safe_numbers() -> str:
    """SET of numbers exempt from the OTP velocity rules (rebuilt from PostgreSQL)."""
    return _k("otp_safe_numbers")


def otp_policies() -> str:
    """HASH client_id -> JSON OTP policy (destination countries, message template) of the
    clients that have one (rebuilt from PostgreSQL)."""
    return _k("otp_policies")


def metrics_otp() -> str:
    """HASH outcome -> OTP requests and checks that ended so (requested, verified, failed, ...)."""
    return _k("metrics:otp")


# --- reliable batches (see apps.core.queues) ------------------------------------------
def batch_items(queue: str, batch_id: str) -> str:
    return f"{queue}:batch:{batch_id}"


def dead_letter(queue: str) -> str:
    """LIST of items of ``queue`` that failed on their own, kept for an operator."""
    return f"{queue}:dead"


def batch_index(queue: str) -> str:
    """ZSET batch_id -> claim time of the batches taken out of ``queue`` and not acked."""
    return f"{queue}:batches"


def redis_ready() -> str:
    """Set once the verified and blacklist sets are loaded from PostgreSQL (no TTL).

    Missing means Redis lost its data: the hot path refuses to register until the
    repair task has rebuilt the sets, so a verified number cannot onboard again.
    """
    return _k("redis_ready")


# --- metrics counters, shared by every web and worker process (HINCRBY) -------------
def metrics_verdicts() -> str:
    """HASH "{status}:{failed check or none}" -> SMS judged so."""
    return _k("metrics:verdicts")


def metrics_drained() -> str:
    """HASH queue name -> items drained from it."""
    return _k("metrics:drained")


def metrics_callbacks() -> str:
    """HASH outcome (delivered, retry, failed) -> callback attempts that ended so."""
    return _k("metrics:callbacks")


# --- locks and heartbeats ------------------------------------------------------------
def lock(name: str) -> str:
    return _k(f"lock:{name}")


def heartbeat(role: str) -> str:
    return _k(f"heartbeat:{role}")


def heartbeat_runs() -> str:
    """INT: heartbeats run so far (each is one beat tick run by one worker)."""
    return _k("heartbeat:runs")


def heartbeat_started() -> str:
    """FLOAT: when beat or a housekeeping worker last started; kept HEARTBEAT_STALE_AFTER
    seconds, the grace in which /health calls the workers "starting" until a heartbeat runs."""
    return _k("heartbeat:started")
