"""Registering numbers for reverse-SMS onboarding, and what a client may read of them.

All of it is hot path: one Redis round trip per request, no SQL.
"""

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from django.conf import settings
from rest_framework import status

from apps.audit.events import monitor_event
from apps.core import keys
from apps.core.exceptions import ApplicationError
from apps.core.phone import Mobile
from apps.core.redis import get_redis, run_script
from apps.core.system_settings import system_settings_get
from apps.core.timeutil import from_epoch_ms

WARMING_RETRY_AFTER = 5


@dataclass(frozen=True)
class Registration:
    mobile: Mobile
    hash: str
    expires_at: datetime
    sms_body: str
    sms_to: str
    sms_link: str


def onboard_hash_compute(*, header: str, mobile: str, salt: str) -> str:
    """sha256(header + mobile + salt), as source document 000 specifies."""
    return hashlib.sha256(f"{header}{mobile}{salt}".encode()).hexdigest()


def sms_link_build(*, to: str, body: str) -> str:
    """An RFC 5724 ``sms:`` URI that opens the messaging app with the body filled in."""
    return f"sms:{to}?body={quote(body, safe='')}"


def number_register(*, mobile: Mobile, client_id: str) -> Registration:
    config = system_settings_get()
    if config.is_enabled("foreign_number") and str(mobile.country_code) not in config.allowed_country_codes:
        raise ApplicationError(
            f"Numbers from country code +{mobile.country_code} cannot onboard here.",
            code="country_not_allowed",
        )
    header = config.hash_header
    salt = secrets.token_hex(max(1, config.salt_length // 2))  # salt_length hex characters
    new_hash = onboard_hash_compute(header=header, mobile=mobile.key, salt=salt)
    now_ms = int(time.time() * 1000)
    event = monitor_event(
        status="onboard_requested",
        mobile=mobile.key,
        country_code=str(mobile.country_code),
        client_ids=[client_id],
    )
    outcome, current_hash, ttl_ms = run_script(
        "onboarding/lua/number_register.lua",
        keys=[
            keys.out_sms_numbers(),
            keys.blacklist_mobiles(),
            keys.onboard_hash(mobile.key),
            keys.onboard_clients(mobile.key),
            keys.register_rate(client_id),
            keys.register_number_rate(mobile.key),
            keys.sms_monitor_queue(),
            keys.redis_ready(),
        ],
        args=[
            mobile.key,
            new_hash,
            config.onboard_hash_ttl,
            client_id,
            now_ms,
            keys.ONBOARD_CLIENTS_TTL,
            config.register_rate_per_minute,
            config.register_per_number_per_hour,
            event,
        ],
    )
    _raise_for(outcome, int(ttl_ms))
    body = f"{header}:{current_hash}"
    return Registration(
        mobile=mobile,
        hash=current_hash,
        expires_at=from_epoch_ms(now_ms + int(ttl_ms)),
        sms_body=body,
        sms_to=settings.SMS_RECEIVING_NUMBER,
        sms_link=sms_link_build(to=settings.SMS_RECEIVING_NUMBER, body=body),
    )


def _raise_for(outcome: str, ttl_ms: int) -> None:
    if outcome == "not_ready":
        raise _not_ready()
    if outcome == "blacklisted":
        raise ApplicationError("This number is blacklisted.", code="blacklisted", status_code=403)
    if outcome == "verified":
        raise ApplicationError("This number is already onboarded.", code="already_onboarded", status_code=409)
    if outcome == "rate_limited":
        retry_after = max(1, -(-ttl_ms // 1000))
        raise ApplicationError(
            "Too many registrations; retry later.",
            code="rate_limited",
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            retry_after=retry_after,
            extra={"retry_after": retry_after},
        )


def number_status(*, mobile: Mobile, client_id: str) -> str:
    """pending, verified, expired, blacklisted or unknown; 404 if this client never registered it."""
    with get_redis().pipeline(transaction=False) as pipe:
        pipe.hget(keys.onboard_clients(mobile.key), client_id)
        pipe.sismember(keys.blacklist_mobiles(), mobile.key)
        pipe.sismember(keys.out_sms_numbers(), mobile.key)
        pipe.exists(keys.onboard_hash(mobile.key))
        pipe.exists(keys.redis_ready())
        registered_until, blacklisted, verified, pending, ready = pipe.execute()
    if not ready:
        raise _not_ready()
    if registered_until is None:
        raise _not_registered()
    if blacklisted:
        return "blacklisted"
    if verified:
        return "verified"
    if int(registered_until) <= time.time() * 1000:
        return "expired"
    # Within this client's window but no hash: Redis lost it, or it was revoked.
    return "pending" if pending else "unknown"


def pending_sms_link(*, mobile: Mobile, client_id: str) -> str:
    """The ``sms_link`` of a pending registration of this client, for the QR code."""
    with get_redis().pipeline(transaction=False) as pipe:
        pipe.hget(keys.onboard_clients(mobile.key), client_id)
        pipe.get(keys.onboard_hash(mobile.key))
        registered_until, current_hash = pipe.execute()
    if registered_until is None:
        raise _not_registered()
    if current_hash is None:
        raise ApplicationError(
            "No pending registration for this number.", code="no_pending_registration", status_code=404
        )
    body = f"{system_settings_get().hash_header}:{current_hash}"
    return sms_link_build(to=settings.SMS_RECEIVING_NUMBER, body=body)


def _not_ready() -> ApplicationError:
    from ..tasks import redis_repair_kick

    redis_repair_kick()
    return ApplicationError(
        "Reloading verified numbers after a restart; retry shortly.",
        code="warming_up",
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        retry_after=WARMING_RETRY_AFTER,
    )


def _not_registered() -> ApplicationError:
    return ApplicationError("This client never registered this number.", code="not_found", status_code=404)
