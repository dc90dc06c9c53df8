"""What messaging puts on Redis queues, one class per payload, written and read through it.

A new web process and an old worker (or the reverse) meet during every rolling deploy,
so each payload carries a version and ``from_json`` reads the fields it knows.
"""

from dataclasses import dataclass, replace
from typing import ClassVar

from apps.core.payloads import payload_build, payload_dumps, payload_loads


@dataclass(frozen=True)
class NotificationRecord:
    """A notification on ``notification_queue`` (and in ``notification_retry``): what to send.

    ``sensitive`` marks a body that holds a secret (a one-time code): it is sent, never
    stored in PostgreSQL nor logged. ``attempts`` counts the attempts already made.
    """

    id: str
    client_id: str
    channel: str  # "sms" or "email"
    to: str  # E.164 number or email address
    body: str
    subject: str = ""
    sensitive: bool = False
    attempts: int = 0
    created_at: float = 0.0  # epoch seconds

    VERSION: ClassVar[int] = 1

    def to_json(self) -> str:
        return payload_dumps(self, version=self.VERSION)

    @classmethod
    def from_json(cls, raw: str | bytes) -> "NotificationRecord":
        _, data = payload_loads(raw)
        return payload_build(cls, data)

    def retried(self, attempts: int) -> "NotificationRecord":
        return replace(self, attempts=attempts)


@dataclass(frozen=True)
class NotificationEvent:
    """One change of a notification on ``notification_events``, for the PostgreSQL copy.

    ``seq`` orders the changes of one notification (1 is ``queued``); the store applies a
    change only over an older one. The ``queued`` change also carries what the row needs
    (destination, subject, body unless sensitive, idempotency key).
    """

    id: str
    seq: int
    status: str
    at: float  # epoch seconds
    attempts: int = 0
    last_error: str = ""
    gateway_id: str = ""
    provider_id: str = ""
    client_id: str = ""
    channel: str = ""
    to: str = ""
    subject: str = ""
    body: str = ""
    body_redacted: bool = False
    idempotency_key: str = ""

    VERSION: ClassVar[int] = 1

    def to_json(self) -> str:
        return payload_dumps(self, version=self.VERSION)

    @classmethod
    def from_json(cls, raw: str | bytes) -> "NotificationEvent":
        _, data = payload_loads(raw)
        return payload_build(cls, data)
