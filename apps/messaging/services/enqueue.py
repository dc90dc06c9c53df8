"""Queue a notification: validated, written to Redis only, in one round trip.

``POST /notifications`` and the OTP service both queue through ``notification_enqueue``.
The request is answered as soon as the notification is in Redis; a worker sends it
(services/sender.py) and the notification-events drain keeps the PostgreSQL copy.
"""

import hashlib
import time
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from rest_framework import status

from apps.core import keys
from apps.core.exceptions import ApplicationError
from apps.core.phone import mobile_parse
from apps.core.ratelimit import RateLimitState, rate_limited
from apps.core.redis import get_redis, run_script
from apps.core.registry import NOTIFICATION_SEND, work_wake
from apps.core.repair import warming_up_error
from apps.core.system_settings import system_settings_get
from apps.inbound.routes import ANY_COUNTRY, route_field

from ..payloads import NotificationEvent, NotificationRecord

SMS_BODY_MAX = 1600  # ten concatenated SMS segments
EMAIL_BODY_MAX = 64 * 1024
SUBJECT_MAX = 200
IDEMPOTENCY_KEY_MAX = 128


@dataclass(frozen=True)
class Destination:
    channel: str
    to: str  # E.164 or a normalized email address
    route: str  # the send_routes field of its country
    blacklist_member: str  # the number's key in blacklist_mobiles; "" for email


@dataclass(frozen=True)
class Queued:
    id: str
    status: str
    duplicate: bool
    rate_limit: RateLimitState


def destination_parse(*, channel: str, to: str) -> Destination:
    """The destination of a message on ``channel``, or ApplicationError (400) saying why not."""
    if channel == "sms":
        mobile = mobile_parse(to)
        return Destination("sms", mobile.e164, route_field("sms", str(mobile.country_code)), mobile.key)
    if channel == "email":
        address = (to or "").strip()
        try:
            validate_email(address)
        except ValidationError as exc:
            raise ApplicationError(f"{to!r} is not an email address.", code="invalid_email") from exc
        local, _, domain = address.rpartition("@")
        return Destination("email", f"{local}@{domain.lower()}", route_field("email"), "")
    raise ApplicationError('channel must be "sms" or "email".', code="invalid")


def body_check(*, channel: str, body: str, subject: str = "") -> None:
    if not body.strip():
        raise ApplicationError("body must not be empty.", code="invalid")
    limit = SMS_BODY_MAX if channel == "sms" else EMAIL_BODY_MAX
    size = len(body) if channel == "sms" else len(body.encode())
    if size > limit:
        unit = "characters" if channel == "sms" else "bytes"
        raise ApplicationError(f"body is longer than {limit} {unit} for {channel}.", code="body_too_long")
    if len(subject) > SUBJECT_MAX or "\n" in subject or "\r" in subject:
        raise ApplicationError(
            f"subject must be one line of at most {SUBJECT_MAX} characters.", code="invalid"
        )


def digest(text: str, length: int = 32) -> str:
    """Key names carry a digest, never a destination or a client's own key."""
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def notification_enqueue(
    *,
    client_id: str,
    channel: str,
    to: str,
    body: str,
    subject: str = "",
    idempotency_key: str = "",
    sensitive: bool = False,
) -> Queued:
    """Queue one notification for ``client_id``; the same idempotency key within 24 h
    returns the first notification's id and queues nothing.

    ``sensitive`` bodies (one-time codes) are sent but never stored in PostgreSQL.
    """
    destination = destination_parse(channel=channel, to=to)
    body_check(channel=channel, body=body, subject=subject)
    if len(idempotency_key) > IDEMPOTENCY_KEY_MAX:
        raise ApplicationError(
            f"idempotency_key is longer than {IDEMPOTENCY_KEY_MAX} characters.", code="invalid"
        )
    config = system_settings_get()
    notification_id = str(uuid.uuid4())
    now = time.time()
    record = NotificationRecord(
        id=notification_id,
        client_id=client_id,
        channel=channel,
        to=destination.to,
        body=body,
        subject=subject,
        sensitive=sensitive,
        created_at=now,
    )
    event = NotificationEvent(
        id=notification_id,
        seq=1,
        status="queued",
        at=now,
        client_id=client_id,
        channel=channel,
        to=destination.to,
        subject=subject,
        body="" if sensitive else body,
        body_redacted=sensitive,
        idempotency_key=idempotency_key,
    )
    idempotency = keys.notification_idempotency(client_id, digest(idempotency_key)) if idempotency_key else ""
    outcome, found_id, *limit, kick = run_script(
        "messaging/lua/notification_enqueue.lua",
        keys=[
            keys.redis_ready(),
            idempotency or keys.notification_idempotency(client_id, "-"),
            keys.notify_client_rate(client_id),
            keys.notify_destination_rate(client_id, digest(destination.to, 24)),
            keys.send_routes(),
            keys.blacklist_mobiles(),
            keys.notification(notification_id),
            keys.notification_queue(),
            keys.notification_events(),
            keys.notification_kick(),
        ],
        args=[
            notification_id,
            1 if idempotency else 0,
            config.notification_rate_per_minute,
            config.notification_per_destination_per_hour,
            destination.route,
            route_field(channel, ANY_COUNTRY),
            destination.blacklist_member,
            record.to_json(),
            event.to_json(),
            client_id,
            channel,
            keys.NOTIFICATION_TTL,
            keys.NOTIFICATION_IDEMPOTENCY_TTL,
            keys.NOTIFICATION_KICK_TTL_MS,
        ],
    )
    rate_limit = RateLimitState.from_reply(*limit)
    _raise_for(outcome, rate_limit)
    if kick:
        work_wake(NOTIFICATION_SEND)
    if outcome == "duplicate":
        current = get_redis().hget(keys.notification(found_id), "status")
        return Queued(id=found_id, status=str(current or "queued"), duplicate=True, rate_limit=rate_limit)
    return Queued(id=notification_id, status="queued", duplicate=False, rate_limit=rate_limit)


def _raise_for(outcome: str, rate_limit: RateLimitState) -> None:
    if outcome == "rate_limited":
        raise rate_limited(rate_limit, "Too many notifications; retry later.")
    if outcome == "not_ready":
        raise warming_up_error()
    if outcome == "no_route":
        raise ApplicationError(
            "No sending gateway covers this destination.",
            code="destination_not_permitted",
            status_code=status.HTTP_403_FORBIDDEN,
        )
    if outcome == "blacklisted":
        raise ApplicationError(
            "This number is blacklisted.",
            code="destination_not_permitted",
            status_code=status.HTTP_403_FORBIDDEN,
        )
