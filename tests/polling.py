"""The suite's one way to wait for something another process (or thread) does."""

import time
from collections.abc import Callable
from typing import Any


def wait_for(
    predicate: Callable[[], Any],
    *,
    timeout: float = 15.0,
    message: str | Callable[[], str] = "",
    interval: float = 0.05,
) -> Any:
    """Poll ``predicate`` until it returns something truthy, and return that.

    After ``timeout`` seconds raise AssertionError with ``message``; pass a callable (such as
    ``cluster.logs``) to have it read when the wait fails, not when it starts, so process logs
    show what happened during the wait.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    text = message() if callable(message) else message
    raise AssertionError(f"timed out after {timeout} s" + (f": {text}" if text else ""))
