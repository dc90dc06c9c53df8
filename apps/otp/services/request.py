"""``POST /otp/request``: a new one-time code, kept as an HMAC in Redis, and the SMS that carries it.

All of it is hot path: the policy comes from its in-process copy of the Redis mirror,
the checks and writes are one Lua script (lua/otp_request.lua), and no SQL runs. The SMS
is queued as a notification (``sensitive``: sent, never stored in PostgreSQL), which
the messaging app's sender delivers through the gateways that cover the number.
"""

import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from rest_framework import status

from apps.audit.events import monitor_event
from apps.core import keys
from apps.core.exceptions import ApplicationError
from apps.core.history import history_lua_args
from apps.core.phone import Mobile
from apps.core.ratelimit import RateLimitState, rate_limited
from apps.core.redis import run_script
from apps.core.registry import NOTIFICATION_SEND, work_wake
from apps.core.repair import warming_up_error
from apps.core.system_settings import Settings, system_settings_get
from apps.core.timeutil import from_epoch_ms, iso_utc
from apps.inbound.routes import ANY_COUNTRY, route_field
from apps.messaging.payloads import NotificationEvent, NotificationRecord

from ..mirror import policy_directory
from ..payloads import OtpRecord
from .codes import destination_prefix, end_user_ip_key, otp_body_render, otp_code_generate, otp_hash

IP_PLACEHOLDER = "-"


@dataclass(frozen=True)
class OtpRequested:
    mobile: Mobile
    expires_in_seconds: int
    expires_at: datetime
    notification_id: str
    rate_limit: RateLimitState


def otp_request(*, client_id: str, mobile: Mobile, end_user_ip: str = "") -> OtpRequested:
    """Open a code for ``mobile`` and queue its SMS, or ApplicationError saying why not."""
    config = system_settings_get()
    policy = policy_directory.policy(client_id)
    ip = end_user_ip_key(end_user_ip) if end_user_ip else ""
    code = otp_code_generate(length=config.otp_code_length)
    ttl = config.otp_ttl_seconds
    now = time.time()
    notification_id = str(uuid.uuid4())
    record = OtpRecord(
        otp_hash=otp_hash(client_id=client_id, mobile=mobile.key, code=code),
        mobile_number=mobile.key,
        created_at=iso_utc(from_epoch_ms(now * 1000)),
        expires_at=iso_utc(from_epoch_ms((now + ttl) * 1000)),
        notification_id=notification_id,
    )
    body = otp_body_render(
        template=policy.template or config.otp_message_template, code=code, ttl_seconds=ttl
    )
    countries = policy.countries or config.otp_allowed_country_codes
    prefix = destination_prefix(mobile, digits=config.otp_prefix_digits)
    outcome, wait_ms, *limit, kick = run_script(
        "otp/lua/otp_request.lua",
        keys=[
            keys.redis_ready(),
            keys.otp_request_client_rate(client_id),
            keys.otp_request_number_rate(client_id, mobile.key),
            keys.otp_request_ip_rate(client_id, ip or IP_PLACEHOLDER),
            keys.blacklist_mobiles(),
            keys.otp_attempts(client_id, mobile.key),
            keys.otp(client_id, mobile.key),
            keys.otp_prefix_block(client_id, prefix),
            keys.otp_safe_numbers(),
            keys.otp_prefix_rate(client_id, prefix),
            keys.otp_conversion(client_id, prefix),
            keys.otp_pending(client_id, prefix),
            keys.otp_blocked_prefixes(),
            keys.send_routes(),
            keys.notification(notification_id),
            keys.notification_queue(),
            keys.notification_events(),
            keys.notification_kick(),
            keys.sms_monitor_queue(),
            keys.metrics_otp(),
            keys.event_feed(),
        ],
        args=[
            mobile.key,
            client_id,
            config.otp_request_rate_per_minute,
            config.otp_request_per_number_per_hour,
            1 if ip else 0,
            config.otp_request_per_ip_per_hour,
            config.otp_max_attempts,
            record.to_json(),
            ttl,
            config.otp_prefix_per_window,
            config.otp_prefix_window_seconds * 1000,
            config.otp_conversion_min_requests,
            config.otp_conversion_min_percent,
            config.otp_prefix_cooldown_seconds * 1000,
            route_field("sms", str(mobile.country_code)),
            route_field("sms", ANY_COUNTRY),
            notification_id,
            _notification(notification_id, client_id, mobile, body, now).to_json(),
            _queued_event(notification_id, client_id, mobile, now).to_json(),
            keys.NOTIFICATION_TTL,
            keys.NOTIFICATION_KICK_TTL_MS,
            monitor_event(
                status="otp_requested",
                mobile=mobile.key,
                country_code=str(mobile.country_code),
                client_ids=[client_id],
            ),
            f"{client_id}:{prefix}",
            keys.OTP_CONVERSION_BUCKET_MS,
            keys.OTP_CONVERSION_BUCKETS,
            keys.OTP_CONVERSION_TTL,
            1 if str(mobile.country_code) in countries else 0,
            *history_lua_args(),
        ],
    )
    rate_limit = RateLimitState.from_reply(*limit)
    _raise_for(outcome, int(wait_ms), rate_limit, config)
    if kick:
        work_wake(NOTIFICATION_SEND)
    return OtpRequested(
        mobile=mobile,
        expires_in_seconds=ttl,
        expires_at=from_epoch_ms((now + ttl) * 1000),
        notification_id=notification_id,
        rate_limit=rate_limit,
    )


def _notification(
    notification_id: str, client_id: str, mobile: Mobile, body: str, now: float
) -> NotificationRecord:
    return NotificationRecord(
        id=notification_id,
        client_id=client_id,
        channel="sms",
        to=mobile.e164,
        body=body,
        sensitive=True,
        created_at=now,
    )


def _queued_event(notification_id: str, client_id: str, mobile: Mobile, now: float) -> NotificationEvent:
    return NotificationEvent(
        id=notification_id,
        seq=1,
        status="queued",
        at=now,
        client_id=client_id,
        channel="sms",
        to=mobile.e164,
        body_redacted=True,
    )


def _seconds(ms: int) -> int:
    return max(1, -(-ms // 1000))


FORBIDDEN = {
    "country": "Codes cannot be sent to this country for this client.",
    "blacklisted": "This number is blacklisted.",
    "no_route": "No sending gateway covers this destination.",
}
REFUSED = {
    "max_attempts": ("otp_blocked", "Too many wrong codes for this number; retry later."),
    "prefix_blocked": ("prefix_blocked", "Codes to this number range are paused; retry later."),
    "prefix_conversion": ("prefix_blocked", "Codes to this number range are paused; retry later."),
    "prefix_velocity": ("prefix_rate_limited", "Too many codes to this number range; retry later."),
}


def _raise_for(outcome: str, wait_ms: int, rate_limit: RateLimitState, config: Settings) -> None:
    if outcome == "ok":
        return
    if outcome == "rate_limited":
        raise rate_limited(rate_limit, "Too many OTP requests; retry later.")
    if outcome == "not_ready":
        raise warming_up_error()
    if outcome in FORBIDDEN:
        code = "blacklisted" if outcome == "blacklisted" else "destination_not_permitted"
        raise ApplicationError(FORBIDDEN[outcome], code=code, status_code=status.HTTP_403_FORBIDDEN)
    wait = _seconds(wait_ms)
    if outcome == "active":
        raise ApplicationError(
            "A code for this number is still active.",
            code="otp_active",
            status_code=status.HTTP_409_CONFLICT,
            retry_after=wait,
            extra={"retry_after": wait},
            headers=rate_limit.headers,
        )
    code, detail = REFUSED[outcome]
    # A block's 429 describes the block (the attempts, or the range's quota) and when it
    # ends, not the client's own budget, which is not what refused it.
    refused = rate_limit
    if outcome != "prefix_velocity":
        quota = config.otp_max_attempts if outcome == "max_attempts" else config.otp_prefix_per_window
        refused = RateLimitState(quota, 0, wait_ms, wait_ms)
    raise ApplicationError(
        detail,
        code=code,
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        retry_after=refused.retry_after,
        headers=refused.headers,
        extra={"retry_after": refused.retry_after},
    )
