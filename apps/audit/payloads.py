"""What audit puts on Redis queues, one class per payload, written and read through it.

A new web process and an old worker (or the reverse) meet during every rolling deploy,
so each payload carries a version and ``from_json`` still reads the previous one.
"""

from dataclasses import dataclass, field
from typing import Any, ClassVar

import orjson

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

    @staticmethod
    def fields_from_json(raw: str | bytes) -> dict[str, Any]:
        """The fields of one item as written, for the drain, which reads tens of thousands a
        second: building each record (a frozen dataclass) took 40 % of its Python time.

        The reader takes a missing field (a v1 item) as its default above, ignores fields
        it does not know (a newer writer's) and fails on a missing required one, as
        ``from_json`` does; ValueError when the item is not a JSON object. The version
        ``v`` is left in: no field of either version is read by it.
        """
        data = orjson.loads(raw)
        if not isinstance(data, dict):
            raise ValueError(f"a queue payload is a JSON object, not {type(data).__name__}")
        return data
