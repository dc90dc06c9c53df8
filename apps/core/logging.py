"""Logging: one JSON object a line in production, readable lines in development,
mobile numbers masked everywhere (only the last four digits are kept), and periodic
tasks quiet at INFO unless they did something.
"""

import functools
import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

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


class PlainFormatter(logging.Formatter):
    """Readable lines, tracebacks masked too (an exception's message may carry a number)."""

    def formatException(self, ei: Any) -> str:
        return mask_mobiles(super().formatException(ei))


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


# Celery's own INFO lines that every beat tick writes: beat's "Sending due task", the
# worker's "received" and "succeeded". With the default intervals that is about 200 lines a
# minute on an idle bridge, which buries the lines that say something.
_BEAT_SENDING = "Scheduler: Sending due task"


class HousekeepingChatterFilter(logging.Filter):
    """Celery's per-tick INFO lines for the periodic tasks are DEBUG lines.

    Only the routine ones: a tick's failure, retry or rejection keeps its level, and the
    tasks log INFO themselves when they did some work (``work_log``). The lines show again
    with ``--loglevel DEBUG`` (or LOG_LEVEL=DEBUG).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not _is_tick_chatter(record):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def _is_tick_chatter(record: logging.LogRecord) -> bool:
    if record.name == "celery.beat":
        return str(record.msg).startswith(_BEAT_SENDING)  # beat sends nothing but ticks
    if record.name not in {"celery.worker.strategy", "celery.app.trace"}:
        return False
    from celery.app.trace import LOG_RECEIVED, LOG_SUCCESS

    context = record.args if isinstance(record.args, dict) else {}
    return record.msg in (LOG_RECEIVED, LOG_SUCCESS) and context.get("name") in periodic_task_names()


@functools.cache
def periodic_task_names() -> frozenset[str]:
    """The tasks beat runs on a timer (celeryconfig's schedule, the one list of them)."""
    import celeryconfig

    return frozenset(entry["task"] for entry in celeryconfig.beat_schedule.values())


def work_log(logger: logging.Logger, count: int, message: str, *args: object) -> None:
    """Log ``message % (count, *args)`` at INFO when a periodic task did something, else DEBUG.

    A tick that found nothing to do is the common case; only work belongs in an
    operator's log.
    """
    logger.log(logging.INFO if count else logging.DEBUG, message, count, *args)
