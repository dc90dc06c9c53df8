"""Logging: one JSON object a line in production, readable lines in development,
and mobile numbers masked everywhere (only the last four digits are kept).
"""

import json
import logging
import re
from datetime import UTC, datetime

# Phone numbers as people and gateways write them, standing alone: not inside a word or
# id (those run into letters), a decimal or a timestamp (those carry a dot), nor an ISO
# date (2026-11-21). Numbers with fewer than MIN_DIGITS digits are left alone.
PHONE = re.compile(
    r"(?<![\w.-])(?:"
    r"\+\d{1,3}(?:[ -]?\(\d{1,5}\))?(?:[ -]?\d{1,5}){1,4}"  # +91 98765 43210, +1 (415) 555-0123
    r"|\(\d{2,5}\) ?\d{2,5}[ -]?\d{2,5}"  # (987) 654-3210
    r"|(?!\d{4}-\d\d-\d\d(?!\d))\d{2,5}(?:-\d{2,5}){1,3}"  # 98765-43210, 987-654-3210
    r"|\d{5} \d{5}|\d{3} \d{3} \d{4}"  # 98765 43210, 987 654 3210
    r"|\d{8,15}"
    r")(?![\w.-])"
)
MIN_DIGITS = 8
KEPT_DIGITS = 4


def mask_mobiles(text: str) -> str:
    return PHONE.sub(lambda m: _mask(m.group(0)), text)


def _mask(number: str) -> str:
    """Every digit but the last four becomes ``*``; "+", spaces and dashes stay as written."""
    digits = sum(ch.isdigit() for ch in number)
    if digits < MIN_DIGITS:
        return number
    hide = digits - KEPT_DIGITS
    out = []
    for ch in number:
        if ch.isdigit() and hide > 0:
            ch, hide = "*", hide - 1
        out.append(ch)
    return "".join(out)


class MaskMobileFilter(logging.Filter):
    """Rewrite each record's message with mobile numbers masked, before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_mobiles(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        if record.exc_info:
            entry["exc"] = mask_mobiles(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)
