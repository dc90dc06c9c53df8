"""What a client and an operator read of one-time codes; Redis only, never the code."""

import time
from dataclasses import dataclass

from apps.core import keys
from apps.core.phone import Mobile
from apps.core.redis import get_redis
from apps.core.system_settings import system_settings_get

from .services.codes import destination_prefix
from .services.guard import BlockedPrefix, blocked_prefix_parse


@dataclass(frozen=True)
class OtpStatus:
    mobile: Mobile
    active: bool
    expires_in_seconds: int  # 0 when none is active
    attempts_left: int
    failed_attempts: int
    blocked_for_seconds: int  # 0 unless the failed attempts reached otp_max_attempts


def otp_status(*, client_id: str, mobile: Mobile) -> OtpStatus:
    """Where the client's code for ``mobile`` stands (the source's "remaining time"), in one round trip."""
    with get_redis().pipeline(transaction=False) as pipe:
        pipe.pttl(keys.otp(client_id, mobile.key))
        pipe.get(keys.otp_attempts(client_id, mobile.key))
        pipe.pttl(keys.otp_attempts(client_id, mobile.key))
        alive_ms, failed_raw, attempts_ms = pipe.execute()
    max_attempts = system_settings_get().otp_max_attempts
    failed = int(failed_raw or 0)
    blocked = failed >= max_attempts
    return OtpStatus(
        mobile=mobile,
        active=alive_ms > 0 and not blocked,
        expires_in_seconds=_seconds(alive_ms) if alive_ms > 0 else 0,
        attempts_left=max(0, max_attempts - failed),
        failed_attempts=failed,
        blocked_for_seconds=_seconds(attempts_ms) if blocked and attempts_ms > 0 else 0,
    )


def _seconds(ms: int) -> int:
    return max(1, -(-int(ms) // 1000))


def otp_blocked_prefixes(*, now_ms: int | None = None) -> list[BlockedPrefix]:
    """The prefixes blocked now, soonest to open first; ended entries are dropped on the way."""
    r = get_redis()
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    with r.pipeline(transaction=False) as pipe:
        pipe.zremrangebyscore(keys.otp_blocked_prefixes(), "-inf", now_ms)
        pipe.zrangebyscore(keys.otp_blocked_prefixes(), now_ms, "+inf", withscores=True)
        _, entries = pipe.execute()
    found = (blocked_prefix_parse(str(member), until) for member, until in entries)
    return [entry for entry in found if entry is not None]


@dataclass(frozen=True)
class OtpSupportView:
    """What support staff see of a client's code for a number (never the code nor its hash)."""

    status: OtpStatus
    prefix: str
    prefix_blocked_for_seconds: int
    safe_listed: bool
    blacklisted: bool


def otp_support_view(*, client_id: str, mobile: Mobile) -> OtpSupportView:
    prefix = destination_prefix(mobile, digits=system_settings_get().otp_prefix_digits)
    with get_redis().pipeline(transaction=False) as pipe:
        pipe.pttl(keys.otp_prefix_block(client_id, prefix))
        pipe.sismember(keys.otp_safe_numbers(), mobile.key)
        pipe.sismember(keys.blacklist_mobiles(), mobile.key)
        blocked_ms, safe, blacklisted = pipe.execute()
    return OtpSupportView(
        status=otp_status(client_id=client_id, mobile=mobile),
        prefix=prefix,
        prefix_blocked_for_seconds=_seconds(blocked_ms) if blocked_ms > 0 else 0,
        safe_listed=bool(safe),
        blacklisted=bool(blacklisted),
    )
