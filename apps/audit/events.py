"""Monitor events: every verdict and registration becomes one, queued in Redis.

Each event carries its own ``event_id`` from the moment it is created, so the drain
into PostgreSQL can insert it exactly once whatever is replayed.
"""

import json
import time
import uuid
from typing import Any


def monitor_event(
    *,
    status: str,
    mobile: str,
    country_code: str = "",
    sms_uuid: str = "",
    reason: str = "",
    check_results: dict[str, int] | None = None,
    **extra: Any,
) -> str:
    """The JSON of one monitor event, ready to LPUSH onto ``sms_monitor_queue``."""
    event = {
        "event_id": uuid.uuid4().hex,
        "created_at": time.time(),
        "status": status,
        "mobile": mobile,
        "country_code": country_code,
        "sms_uuid": sms_uuid,
        "reason": reason,
        "check_results": check_results or {},
        **extra,
    }
    return json.dumps(event, separators=(",", ":"))
