"""What audit puts on Redis queues, one class per payload, written and read through it.

A new web process and an old worker (or the reverse) meet during every rolling deploy,
so each payload carries a version and ``from_json`` still reads the previous one.
"""

from dataclasses import dataclass, field
from typing import ClassVar

from apps.core.payloads import payload_build, payload_dumps, payload_loads


@dataclass(frozen=True)
class MonitorEventRecord:
    """A verdict or a registration on ``sms_monitor_queue``, waiting for the monitor drain.

    ``event_id`` is made with the event, so the drain inserts it exactly once whatever
    is replayed. v2 adds only the version; v1 (no ``v``) left out the fields its
    producer had no value for, which read as their defaults here.
    """

    event_id: str
    created_at: float  # epoch seconds
    status: str  # valid, invalid, onboard_requested
    mobile: str
    country_code: str = ""
    sms_uuid: str = ""
    reason: str = ""  # the failed check, if any
    check_results: dict[str, int] = field(default_factory=dict)  # check -> NOT_RUN/PASS/FAIL/SKIPPED
    gateway_id: str = ""
    client_ids: tuple[str, ...] = ()
    registration_id: str = ""
    queued_at: float | None = None  # when the SMS was queued (epoch seconds), for a verdict

    VERSION: ClassVar[int] = 2

    def to_json(self) -> str:
        return payload_dumps(self, version=self.VERSION)

    @classmethod
    def from_json(cls, raw: str | bytes) -> "MonitorEventRecord":
        _, data = payload_loads(raw)
        data["client_ids"] = tuple(data.get("client_ids") or ())
        data["check_results"] = data.get("check_results") or {}
        return payload_build(cls, data)
