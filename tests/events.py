"""Celery's monitoring events, captured the way Flower receives them.

Flower builds its task list and its Failed and Retried counts from these events only,
so a test that reads them sees what an operator would see there.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery.events.receiver import EventReceiver

from smsbridge.celery import app


class _Receiver(EventReceiver):
    ready: threading.Event

    def on_consume_ready(self, *args: Any, **kwargs: Any) -> None:
        super().on_consume_ready(*args, **kwargs)
        self.ready.set()


class CapturedEvents:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def add(self, event: dict[str, Any]) -> None:
        with self._lock:
            self.events.append(event)

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return sorted(self.events, key=lambda e: e.get("timestamp", 0))

    def of_type(self, prefix: str) -> list[dict[str, Any]]:
        return [e for e in self.all() if e["type"].startswith(prefix)]

    def task_ids(self, *, name: str, args: tuple[Any, ...] | None = None) -> list[str]:
        """Ids of the tasks a worker received with this name (and these arguments), in order."""
        return [
            e["uuid"]
            for e in self.of_type("task-received")
            if e.get("name") == name and (args is None or e.get("args") == repr(args))
        ]

    def endings(self) -> dict[str, dict[str, Any]]:
        """Task id -> its final event: task-succeeded (with its result), -retried, -failed, ..."""
        ends = {"task-succeeded", "task-retried", "task-failed", "task-rejected", "task-revoked"}
        return {e["uuid"]: e for e in self.all() if e["type"] in ends}

    def outcomes(self, task_ids: list[str]) -> list[str]:
        """The final event type of each task, "" while it has none."""
        endings = self.endings()
        return [endings[t]["type"] if t in endings else "" for t in task_ids]


@contextmanager
def task_events(*, broker_url: str | None = None) -> Iterator[CapturedEvents]:
    """Capture every event on the broker while the block runs (consuming before it starts)."""
    captured = CapturedEvents()
    with app.connection_for_read(url=broker_url) as connection:
        receiver = _Receiver(connection, handlers={"*": captured.add}, app=app)
        receiver.ready = threading.Event()
        thread = threading.Thread(
            target=receiver.capture, kwargs={"limit": None, "timeout": None, "wakeup": False}, daemon=True
        )
        thread.start()
        if not receiver.ready.wait(10):
            raise AssertionError("the event receiver did not start consuming")
        try:
            yield captured
        finally:
            receiver.should_stop = True
            thread.join(10)
