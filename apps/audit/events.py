"""Monitor events: every verdict and registration becomes one, queued in Redis.

Each event carries its own ``event_id`` from the moment it is created, so the drain
into PostgreSQL can insert it exactly once whatever is replayed.
"""

import time
import uuid
from collections.abc import Iterable

from .payloads import MonitorEventRecord


def monitor_event(
    *,
    status: str,
    mobile: str,
    country_code: str = "",
    sms_uuid: str = "",
    reason: str = "",
    check_results: dict[str, int] | None = None,
    gateway_id: str = "",
    client_ids: Iterable[str] = (),
    registration_id: str = "",
    queued_at: float | None = None,
) -> str:
    """The JSON of one monitor event, ready to LPUSH onto ``sms_monitor_queue``."""
    return MonitorEventRecord(
        event_id=uuid.uuid4().hex,
        created_at=time.time(),
        status=status,
        mobile=mobile,
        country_code=country_code,
        sms_uuid=sms_uuid,
        reason=reason,
        check_results=check_results or {},
        gateway_id=gateway_id,
        client_ids=tuple(client_ids),
        registration_id=registration_id,
        queued_at=queued_at,
    ).to_json()
