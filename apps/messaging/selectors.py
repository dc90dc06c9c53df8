"""What a client reads of its notifications: the live record in Redis, zero SQL."""

import uuid
from dataclasses import dataclass

from apps.core import keys
from apps.core.exceptions import ApplicationError
from apps.core.redis import get_redis

# A subset of the record's fields is the answer; reading only them keeps it one HMGET.
FIELDS = ("client_id", "channel", "status", "attempts", "last_error", "gateway_id")


@dataclass(frozen=True)
class NotificationState:
    id: str
    channel: str
    status: str
    attempts: int
    last_error: str
    gateway_id: str | None


def notification_get(*, client_id: str, notification_id: str) -> NotificationState:
    """The notification ``notification_id`` of ``client_id``; 404 for any other (another
    client's id is not told apart from an unknown one)."""
    try:
        canonical = str(uuid.UUID(notification_id))
    except ValueError:
        raise _not_found() from None
    values = get_redis().hmget(keys.notification(canonical), FIELDS)
    found = dict(zip(FIELDS, values, strict=True))
    if found["client_id"] != client_id:
        raise _not_found()
    return NotificationState(
        id=canonical,
        channel=str(found["channel"]),
        status=str(found["status"]),
        attempts=int(found["attempts"] or 0),
        last_error=str(found["last_error"] or ""),
        gateway_id=str(found["gateway_id"]) or None,
    )


def _not_found() -> ApplicationError:
    return ApplicationError("No such notification.", code="not_found", status_code=404)
