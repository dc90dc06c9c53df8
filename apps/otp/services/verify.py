"""``POST /otp/verify``: check a code in one Lua round trip (lua/otp_verify.lua), no SQL."""

import re
from dataclasses import dataclass

from rest_framework import status

from apps.audit.events import monitor_event
from apps.core import keys
from apps.core.exceptions import ApplicationError
from apps.core.history import history_lua_args
from apps.core.phone import Mobile
from apps.core.ratelimit import RateLimitState, rate_limited
from apps.core.redis import run_script
from apps.core.system_settings import system_settings_get

from .codes import destination_prefix, end_user_ip_key, otp_hash
from .request import IP_PLACEHOLDER

CODE = re.compile(r"[0-9]{4,10}")


@dataclass(frozen=True)
class OtpVerified:
    mobile: Mobile
    rate_limit: RateLimitState
    verified: bool = True


def otp_verify(*, client_id: str, mobile: Mobile, otp: str, end_user_ip: str = "") -> OtpVerified:
    """The code is right: it is spent and the failed attempts cleared. Otherwise
    ApplicationError: 400 with ``attempts_left``, 410 when none is alive, 429 when blocked."""
    if not CODE.fullmatch(otp or ""):
        raise ApplicationError("otp: give the code's digits (4 to 10).", code="invalid")
    config = system_settings_get()
    ip = end_user_ip_key(end_user_ip) if end_user_ip else ""
    prefix = destination_prefix(mobile, digits=config.otp_prefix_digits)
    outcome, value, *limit = run_script(
        "otp/lua/otp_verify.lua",
        keys=[
            keys.otp_verify_client_rate(client_id),
            keys.otp_verify_number_rate(client_id, mobile.key),
            keys.otp_verify_ip_rate(client_id, ip or IP_PLACEHOLDER),
            keys.otp_attempts(client_id, mobile.key),
            keys.otp(client_id, mobile.key),
            keys.otp_safe_numbers(),
            keys.otp_conversion(client_id, prefix),
            keys.otp_pending(client_id, prefix),
            keys.sms_monitor_queue(),
            keys.metrics_otp(),
            keys.event_feed(),
        ],
        args=[
            config.otp_verify_rate_per_minute,
            config.otp_verify_per_number_per_hour,
            1 if ip else 0,
            config.otp_verify_per_ip_per_hour,
            config.otp_max_attempts,
            config.otp_attempts_ttl,
            otp_hash(client_id=client_id, mobile=mobile.key, code=otp),
            mobile.key,
            monitor_event(
                status="otp_verify",
                mobile=mobile.key,
                country_code=str(mobile.country_code),
                client_ids=[client_id],
            ),
            keys.OTP_CONVERSION_BUCKET_MS,
            keys.OTP_CONVERSION_TTL,
            *history_lua_args(),
            client_id,
        ],
    )
    rate_limit = RateLimitState.from_reply(*limit)
    if outcome == "verified":
        return OtpVerified(mobile=mobile, rate_limit=rate_limit)
    if outcome == "rate_limited":
        raise rate_limited(rate_limit, "Too many OTP checks; retry later.")
    if outcome == "wrong":
        raise ApplicationError(
            "Wrong code.",
            code="otp_wrong",
            extra={"mobile_number": mobile.key, "verified": False, "attempts_left": int(value)},
            headers=rate_limit.headers,
        )
    if outcome == "none":
        raise ApplicationError(
            "No code is active for this number: it expired, was used, or was never requested.",
            code="otp_expired",
            status_code=status.HTTP_410_GONE,
            headers=rate_limit.headers,
        )
    blocked = RateLimitState(config.otp_max_attempts, 0, int(value), int(value))
    raise ApplicationError(
        "Too many wrong codes for this number; retry later.",
        code="otp_blocked",
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        retry_after=blocked.retry_after,
        headers=blocked.headers,
        extra={"verified": False, "attempts_left": 0, "retry_after": blocked.retry_after},
    )
