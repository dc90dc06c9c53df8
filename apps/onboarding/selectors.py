"""What a client may read of its registrations of a number: their status, the QR's link.

Hot path like registering: one Redis round trip, no SQL. A client sees only its own
registrations; another client's, or one ended over a day ago, is not found.
"""

import time
from dataclasses import dataclass

from django.conf import settings

from apps.core import keys
from apps.core.exceptions import ApplicationError
from apps.core.phone import Mobile
from apps.core.redis import get_redis
from apps.core.repair import warming_up_error
from apps.core.system_settings import system_settings_get

from .services.registration import StoredRegistration, registrations_parse, sms_link_build


@dataclass(frozen=True)
class NumberStatus:
    mobile: Mobile
    registration_id: str
    status: str  # pending, verified, expired or blacklisted


def number_status(*, mobile: Mobile, client_id: str, registration_id: str | None = None) -> NumberStatus:
    """Where the client's newest registration of ``mobile`` (or the one named) stands.

    404 when this client has no such registration (never registered, another client's
    id, or ended over a day ago); 503 while Redis is being reloaded.
    """
    with get_redis().pipeline(transaction=False) as pipe:
        pipe.hgetall(keys.onboard_regs(mobile.key))
        pipe.sismember(keys.blacklist_mobiles(), mobile.key)
        pipe.sismember(keys.out_sms_numbers(), mobile.key)
        pipe.exists(keys.redis_ready())
        entries, blacklisted, number_verified, ready = pipe.execute()
    if not ready:
        raise warming_up_error()
    reg = _own_registration(entries, client_id=client_id, registration_id=registration_id)
    state = _status_of(reg, blacklisted=blacklisted, number_verified=number_verified)
    return NumberStatus(mobile=mobile, registration_id=reg.registration_id, status=state)


def pending_sms_link(*, mobile: Mobile, client_id: str, registration_id: str | None = None) -> str:
    """The ``sms_link`` of the client's newest pending registration (or the one named), for the QR."""
    entries: dict[str, str] = get_redis().hgetall(keys.onboard_regs(mobile.key))  # type: ignore[assignment]
    reg = _own_registration(entries, client_id=client_id, registration_id=registration_id)
    if not reg.is_pending(time.time() * 1000):
        raise ApplicationError(
            "No pending registration for this number.", code="no_pending_registration", status_code=404
        )
    body = f"{system_settings_get().hash_header}:{reg.hash}"
    return sms_link_build(to=settings.SMS_RECEIVING_NUMBER, body=body)


def _own_registration(
    entries: dict[str, str], *, client_id: str, registration_id: str | None
) -> StoredRegistration:
    for reg in registrations_parse(entries):
        if reg.client_id == client_id and registration_id in (None, reg.registration_id):
            return reg
    raise ApplicationError(
        "This client has no such registration of this number.", code="not_found", status_code=404
    )


def _status_of(reg: StoredRegistration, *, blacklisted: bool, number_verified: bool) -> str:
    if blacklisted:
        return "blacklisted"
    if reg.state:
        return reg.state
    # Proved by another registration (whose SMS carried another hash): this one ended.
    if number_verified or not reg.is_pending(time.time() * 1000):
        return "expired"
    return "pending"
