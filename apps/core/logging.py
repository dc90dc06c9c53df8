"""Logging: one JSON object a line in production, readable lines in development,
and mobile numbers masked everywhere (only the last four digits are kept).
"""

import json
import logging
import re
from datetime import UTC, datetime

# 8-15 digits, optionally after a "+", standing alone: phone numbers, not timestamps
# (those carry a dot) or ids (those run into letters).
PHONE = re.compile(r"(?<![\w.])\+?\d{8,15}(?![\w.])")


def mask_mobiles(text: str) -> str:
    return PHONE.sub(lambda m: _mask(m.group(0)), text)


def _mask(number: str) -> str:
    plus = "+" if number.startswith("+") else ""
    digits = number.lstrip("+")
    return plus + "*" * (len(digits) - 4) + digits[-4:]


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
