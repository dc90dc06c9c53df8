"""GET /events/stream through a real gunicorn (the deploy configuration, threaded): events
arrive in order while they are appended, the server ends each stream after
EVENT_STREAM_MAX_SECONDS, and a reader that reconnects with Last-Event-ID gets every event
once, across disconnects of its own and the server's."""

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests

from apps.core import keys
from apps.core.history import history_append
from apps.core.redis import get_redis as _get_redis
from tests.processes import gunicorn_server

pytestmark = pytest.mark.slow  # a real gunicorn

ROOT = Path(__file__).resolve().parents[2]


def get_redis() -> Any:
    """The data Redis, untyped: redis-py's stubs type every reply as a union."""
    return _get_redis()


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    env = {"EVENT_STREAM_MAX_SECONDS": "2", "EVENT_STREAM_KEEPALIVE_SECONDS": "0.5"}
    with gunicorn_server(database_url, tmp_path / "gunicorn.log", threads=4, env=env) as base:
        yield base


def append(client_id: str, n: int) -> None:
    with get_redis().pipeline(transaction=True) as pipe:
        history_append(pipe, "registration.opened", {"n": n}, [client_id])
        pipe.execute()


def read_stream(
    base: str, creds: Any, last_id: str, *, stop_after: int | None = None
) -> list[dict[str, str]]:
    """Follow one connection until the server ends it (or ``stop_after`` events, then hang
    up): the events read, as SSE field dicts."""
    headers = {
        "Authorization": f"Bearer {creds.api_key}",
        "Accept": "text/event-stream",
        "Last-Event-ID": last_id,
    }
    got: list[dict[str, str]] = []
    with requests.get(f"{base}/events/stream", headers=headers, stream=True, timeout=10) as response:
        assert response.status_code == 200, response.text
        fields: dict[str, str] = {}
        for raw in response.iter_lines():
            line = raw.decode()
            if line:
                if not line.startswith(":") and ": " in line:
                    name, value = line.split(": ", 1)
                    fields[name] = value
                continue
            if "id" in fields:
                got.append(fields)
                if stop_after is not None and len(got) >= stop_after:
                    break
            fields = {}
    return got


@pytest.fixture
def creds(make_client: Any, transactional_db: None) -> tuple[Any, Any]:
    return make_client("Alice"), make_client("Bob")


def test_a_follower_that_reconnects_with_last_event_id_gets_every_event_once_in_order(server, creds):
    alice, bob = creds
    append(alice.id, -1)  # a place to start from
    (start,) = [entry_id for entry_id, _ in get_redis().xrange(keys.event_history(alice.id))]
    total = 150
    stop = threading.Event()

    def produce() -> None:
        for n in range(total):
            append(alice.id, n)
            append(bob.id, 1000 + n)
            time.sleep(0.03)  # about 4.5 s: past two server-ended streams
        stop.set()

    producer = threading.Thread(target=produce)
    producer.start()
    seen: list[dict[str, str]] = []
    last = start
    connections = 0
    try:
        while not (stop.is_set() and len(seen) >= total) and connections < 40:
            # Every other connection the reader hangs up itself after a few events.
            batch = read_stream(server, alice, last, stop_after=7 if connections % 2 else None)
            connections += 1
            seen += batch
            if batch:
                last = batch[-1]["id"]
    finally:
        producer.join()

    appended = [entry_id for entry_id, _ in get_redis().xrange(keys.event_history(alice.id), min=f"({start}")]
    assert [e["id"] for e in seen] == appended
    assert len(appended) == total and connections >= 3
    assert [orjson.loads(e["data"])["data"]["n"] for e in seen] == list(range(total))  # none of Bob's


def test_another_clients_stream_carries_none_of_its_events(server, creds):
    alice, bob = creds
    for n in range(5):
        append(alice.id, n)
    assert read_stream(server, bob, "0") == []
    assert len(read_stream(server, alice, "0")) == 5
