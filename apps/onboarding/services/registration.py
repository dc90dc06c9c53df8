"""Registering numbers for reverse-SMS onboarding (what a client reads of them: ../selectors.py).

Every register call opens a registration of its own: its own id, salt and so hash. The
SMS that carries a hash proves that registration only, so a second client (or a second
account of one client) registering the same number learns nothing it could use to
claim the first one's proof. All of it is hot path: one Redis round trip, no SQL.
"""

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar
from urllib.parse import quote

from django.conf import settings

from apps.audit.events import monitor_event
from apps.core import keys
from apps.core.exceptions import ApplicationError
from apps.core.history import event_json, history_lua_args
from apps.core.phone import Mobile
from apps.core.ratelimit import RateLimitState, rate_limited
from apps.core.redis import run_script
from apps.core.repair import warming_up_error
from apps.core.system_settings import Settings, system_settings_get
from apps.core.timeutil import from_epoch_ms

REFERENCE_MAX_LENGTH = 128


@dataclass(frozen=True)
class Registration:
    registration_id: str
    mobile: Mobile
    hash: str
    reference: str
    expires_at: datetime
    sms_body: str
    sms_to: str
    sms_link: str
    rate_limit: RateLimitState

    status: ClassVar[str] = "pending"  # a registration just opened waits for its SMS


@dataclass(frozen=True)
class StoredRegistration:
    """One entry of ``onboard_regs:{mobile}``, as the status endpoint and the pipeline read it."""

    hash: str
    registration_id: str
    client_id: str
    reference: str
    expires_at_ms: int
    state: str  # "" while pending, else "verified" or "expired"

    @classmethod
    def from_entry(cls, hash_: str, raw: str) -> "StoredRegistration":
        data = json.loads(raw)
        return cls(
            hash=hash_,
            registration_id=data["registration_id"],
            client_id=data["client_id"],
            reference=data.get("reference") or "",
            expires_at_ms=int(data["expires_at"]),
            state=data.get("state", ""),
        )

    def is_pending(self, now_ms: float) -> bool:
        return not self.state and self.expires_at_ms > now_ms


def registration_entry(reg: StoredRegistration, *, state: str, ended_at: int) -> str:
    """The ``onboard_regs`` JSON of ``reg`` once it has ended as ``state``."""
    entry = {
        "registration_id": reg.registration_id,
        "client_id": reg.client_id,
        "reference": reg.reference,
        "expires_at": reg.expires_at_ms,
        "state": state,
        "ended_at": ended_at,
    }
    return event_json(entry)


def registrations_parse(entries: dict[str, str]) -> list[StoredRegistration]:
    """The registrations in an ``onboard_regs`` HGETALL reply, newest first."""
    regs = [StoredRegistration.from_entry(h, raw) for h, raw in entries.items()]
    return sorted(regs, key=lambda reg: reg.expires_at_ms, reverse=True)


def onboard_hash_compute(*, header: str, mobile: str, salt: str) -> str:
    """sha256(header + mobile + salt): the salt is new for every registration."""
    return hashlib.sha256(f"{header}{mobile}{salt}".encode()).hexdigest()


def sms_link_build(*, to: str, body: str) -> str:
    """An RFC 5724 ``sms:`` URI that opens the messaging app with the body filled in."""
    return f"sms:{to}?body={quote(body, safe='')}"


def number_register(*, mobile: Mobile, client_id: str, reference: str = "") -> Registration:
    """Open a new registration of ``mobile`` for ``client_id``, with its own hash."""
    config = system_settings_get()
    _refuse_foreign(mobile, config)
    header = config.hash_header
    salt = secrets.token_hex(max(1, config.salt_length // 2))  # salt_length hex characters
    new_hash = onboard_hash_compute(header=header, mobile=mobile.key, salt=salt)
    registration_id = str(uuid.uuid4())
    entry = {"registration_id": registration_id, "client_id": client_id, "reference": reference}
    event = monitor_event(
        status="onboard_requested",
        mobile=mobile.key,
        country_code=str(mobile.country_code),
        client_ids=[client_id],
        registration_id=registration_id,
    )
    outcome, expires_at_ms, *limit = run_script(
        "onboarding/lua/number_register.lua",
        keys=[
            keys.redis_ready(),
            keys.blacklist_mobiles(),
            keys.out_sms_numbers(),
            keys.onboard_hash(mobile.key),
            keys.onboard_regs(mobile.key),
            keys.register_client_rate(client_id),
            keys.register_client_number_rate(client_id, mobile.key),
            keys.register_number_rate(mobile.key),
            keys.sms_monitor_queue(),
            keys.event_feed(),
        ],
        args=[
            mobile.key,
            new_hash,
            config.onboard_hash_ttl,
            event_json(entry)[:-1],
            client_id,
            config.register_rate_per_minute,
            config.register_per_client_number_per_hour,
            config.register_per_number_per_hour,
            event,
            keys.ONBOARD_MAX_PENDING,
            keys.ONBOARD_ENDED_KEEP_MS,
            *history_lua_args(),
            _opened_event(registration_id=registration_id, mobile=mobile, reference=reference),
        ],
    )
    rate_limit = RateLimitState.from_reply(*limit)
    _raise_for(outcome, rate_limit)
    body = f"{header}:{new_hash}"
    return Registration(
        registration_id=registration_id,
        mobile=mobile,
        hash=new_hash,
        reference=reference,
        expires_at=from_epoch_ms(int(expires_at_ms)),
        sms_body=body,
        sms_to=settings.SMS_RECEIVING_NUMBER,
        sms_link=sms_link_build(to=settings.SMS_RECEIVING_NUMBER, body=body),
        rate_limit=rate_limit,
    )


def _opened_event(*, registration_id: str, mobile: Mobile, reference: str) -> str:
    """The ``registration.opened`` data without its closing brace: the script adds
    ``expires_at``, which only it knows (the expiry follows the number's newest one).
    Never the hash: it is the secret the SMS proves."""
    data = {"registration_id": registration_id, "mobile_number": mobile.key, "reference": reference}
    return event_json(data)[:-1]


def _refuse_foreign(mobile: Mobile, config: Settings) -> None:
    if config.is_enabled("foreign_number") and str(mobile.country_code) not in config.allowed_country_codes:
        raise ApplicationError(
            f"Numbers from country code +{mobile.country_code} cannot onboard here.",
            code="country_not_allowed",
        )


def _raise_for(outcome: str, rate_limit: RateLimitState) -> None:
    if outcome == "rate_limited":
        raise rate_limited(rate_limit, "Too many registrations; retry later.")
    if outcome == "not_ready":
        raise warming_up_error()
    if outcome == "blacklisted":
        raise ApplicationError("This number is blacklisted.", code="blacklisted", status_code=403)
    if outcome == "verified":
        raise ApplicationError("This number is already onboarded.", code="already_onboarded", status_code=409)
