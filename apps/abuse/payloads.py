"""What abuse puts on Redis queues, one class per payload, written and read through it.

A new web process and an old worker (or the reverse) meet during every rolling deploy,
so each payload carries a version and ``from_json`` still reads the previous one.
"""

from dataclasses import dataclass
from typing import ClassVar

from apps.core.payloads import payload_build, payload_dumps, payload_loads


@dataclass(frozen=True)
class BlacklistActionRecord:
    """A blacklist change on ``blacklist_queue``: Redis has it already, PostgreSQL follows.

    ``blacklist_add.lua`` queues it untouched for each number it newly lists. v2 adds
    only the version; v1 (no ``v``) reads the same, and a v1 action queued before
    expiry existed has no ``expires_at`` (permanent).
    """

    event_id: str
    action: str  # "add" or "remove"
    mobile: str
    country_code: str
    source: str
    reason: str
    actor: str
    created_at: float  # epoch seconds
    expires_at: float | None = None  # epoch seconds; None: permanent

    VERSION: ClassVar[int] = 2

    def to_json(self) -> str:
        return payload_dumps(self, version=self.VERSION)

    @classmethod
    def from_json(cls, raw: str | bytes) -> "BlacklistActionRecord":
        _, data = payload_loads(raw)
        return payload_build(cls, data)
