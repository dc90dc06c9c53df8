"""What inbound puts on Redis queues, one class per payload, written and read through it.

A new web process and an old worker (or the reverse) meet during every rolling deploy,
so each payload carries a version and ``from_json`` still reads the previous one.
"""

from dataclasses import dataclass
from typing import ClassVar

from apps.core.payloads import payload_build, payload_dumps, payload_loads


@dataclass(frozen=True)
class InboundSmsRecord:
    """A received SMS on ``sms_inbound_queue``, waiting for the validation pipeline.

    v2 adds only the version; v1 (the same fields without ``v``) reads the same. The
    Lua script that queues it (``sms_enqueue.lua``) passes the JSON through untouched.
    """

    uuid: str
    sender_number: str
    sms_message: str
    received_timestamp: str  # ISO 8601 as the gateway gave it; naive means UTC
    gateway_id: str = ""
    gateway_kind: str = ""
    message_id: str = ""  # the gateway's delivery id, the de-duplication key
    queued_at: float | None = None  # epoch seconds

    VERSION: ClassVar[int] = 2

    def to_json(self) -> str:
        return payload_dumps(self, version=self.VERSION)

    @classmethod
    def from_json(cls, raw: str | bytes) -> "InboundSmsRecord":
        _, data = payload_loads(raw)
        return payload_build(cls, data)
