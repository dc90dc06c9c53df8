"""Callbacks to client apps: refused destinations, a total deadline, a bounded read, and
attempts counted when a delivery is claimed. Local servers stand in for the clients."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from apps.clients.models import CallbackDelivery, Client
from apps.clients.webhooks import RESPONSE_KEEP_BYTES, callback_deliver
from apps.core.safe_http import http_post_bounded
from smsbridge.celery import app
from tests.factories import CallbackDeliveryFactory
from tests.polling import wait_for

ROOT = Path(__file__).resolve().parents[2]


# --- a raw local server: each connection is handed to ``serve`` ---------------------------------
class LocalServer:
    """A loopback TCP server running ``serve(conn)`` per connection; records what it saw."""

    def __init__(self, serve: Callable[["LocalServer", socket.socket], None]) -> None:
        self.serve = serve
        self.connections = 0
        self.sent = 0
        self.hung_up = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str = "/hook", scheme: str = "http", host: str = "127.0.0.1") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        try:
            _read_request(conn)
            self.serve(self, conn)
        except OSError:
            self.hung_up.set()  # the client closed on us
        finally:
            conn.close()

    def send(self, conn: socket.socket, data: bytes) -> None:
        conn.sendall(data)
        self.sent += len(data)

    def close(self) -> None:
        self._sock.close()


def _read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        ),
        0,
    )
    while len(body) < length:
        body += conn.recv(65536)


@pytest.fixture
def local_server() -> Iterator[Callable[..., LocalServer]]:
    servers: list[LocalServer] = []

    def make(serve: Callable[[LocalServer, socket.socket], None]) -> LocalServer:
        servers.append(LocalServer(serve))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def answer_ok(server: LocalServer, conn: socket.socket) -> None:
    server.send(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")


def hold_forever(server: LocalServer, conn: socket.socket) -> None:
    time.sleep(3600)


def drip_body(server: LocalServer, conn: socket.socket) -> None:
    server.send(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 400\r\n\r\n")
    for _ in range(400):
        server.send(conn, b"x")
        time.sleep(0.05)  # far under any per-read timeout


def drip_headers(server: LocalServer, conn: socket.socket) -> None:
    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * 400:
        server.send(conn, bytes([byte]))
        time.sleep(0.05)


FIFTY_MB = 50 * 1024 * 1024


def stream_fifty_megabytes(server: LocalServer, conn: socket.socket) -> None:
    server.send(conn, f"HTTP/1.1 500 Oops\r\nContent-Length: {FIFTY_MB}\r\n\r\n".encode())
    chunk = b"z" * 65536
    for _ in range(FIFTY_MB // len(chunk)):
        server.send(conn, chunk)


# --- deliveries ---------------------------------------------------------------------------------
def delivery_for(make_client: Callable[..., object], url: str, **fields: object) -> CallbackDelivery:
    # The URL goes straight into the row: these are delivery-time checks, which must also
    # hold for a URL stored before a setting changed (client_create refuses some today).
    creds = make_client(name=f"client {uuid.uuid4().hex[:8]}")
    Client.objects.filter(id=creds.id).update(webhook_url=url)  # type: ignore[attr-defined]
    return CallbackDeliveryFactory.create(client_id=creds.id, **fields)  # type: ignore[attr-defined]


@pytest.fixture
def hardened(settings):
    """Production's callback policy: no private networks, https only."""
    settings.DEBUG = False
    settings.CALLBACK_ALLOW_PRIVATE_NETWORKS = False
    return settings


PRIVATE_DESTINATIONS = [
    ("https://127.0.0.1:{port}/hook", "127.0.0.1 is a loopback address"),
    ("https://localhost:{port}/hook", "is a loopback address"),
    ("https://[::1]:{port}/hook", "::1 is a loopback address"),
    ("https://10.20.30.40/hook", "10.20.30.40 is a private or reserved address"),
    ("https://172.16.5.4/hook", "172.16.5.4 is a private or reserved address"),
    ("https://192.168.1.20/hook", "192.168.1.20 is a private or reserved address"),
    ("https://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local (cloud metadata) address"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "named"), PRIVATE_DESTINATIONS)
def test_private_destinations_are_refused_after_resolution_as_a_failed_attempt(
    url, named, hardened, make_client, local_server
):
    watcher = local_server(answer_ok)  # the loopback ones would land here
    delivery = delivery_for(make_client, url.format(port=watcher.port))

    assert callback_deliver(delivery_id=delivery.id) == CallbackDelivery.Status.PENDING

    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert named in delivery.last_error and "refused" in delivery.last_error
    assert "CALLBACK_ALLOW_PRIVATE_NETWORKS=1" in delivery.last_error
    assert delivery.last_status_code is None
    assert watcher.connections == 0  # refused before any connection


@pytest.mark.django_db
def test_the_escape_hatch_lets_development_callbacks_reach_loopback(settings, make_client, local_server):
    settings.DEBUG, settings.CALLBACK_ALLOW_PRIVATE_NETWORKS = False, True
    server = local_server(answer_ok)
    delivery = delivery_for(make_client, server.url())

    assert callback_deliver(delivery_id=delivery.id) == CallbackDelivery.Status.DELIVERED
    assert server.connections == 1


@pytest.mark.django_db
def test_plain_http_is_refused_outside_debug(hardened, make_client, local_server):
    server = local_server(answer_ok)
    delivery = delivery_for(make_client, "http://client.test/hook")

    callback_deliver(delivery_id=delivery.id)

    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert delivery.last_error.startswith("webhook URL must use https")
    assert server.connections == 0


@pytest.mark.django_db
def test_debug_allows_http_but_still_refuses_loopback(settings, make_client, local_server):
    settings.DEBUG, settings.CALLBACK_ALLOW_PRIVATE_NETWORKS = True, False
    server = local_server(answer_ok)
    delivery = delivery_for(make_client, server.url())

    callback_deliver(delivery_id=delivery.id)

    delivery.refresh_from_db()
    assert "127.0.0.1 is a loopback address; refused" in delivery.last_error
    assert server.connections == 0


@pytest.mark.django_db
@pytest.mark.parametrize("drip", [drip_body, drip_headers], ids=["body", "headers"])
def test_a_slow_drip_server_is_cut_off_at_the_total_deadline(drip, settings, make_client, local_server):
    settings.CALLBACK_TIMEOUT_SECONDS = 1.0
    server = local_server(drip)  # would take 20 s to finish, one byte at a time
    delivery = delivery_for(make_client, server.url())

    callback_deliver(delivery_id=delivery.id)

    delivery.refresh_from_db()
    assert delivery.last_error == "no complete answer within 1 s (deadline)"
    assert server.hung_up.wait(10), "the server was never cut off"
    assert server.sent < 400 + 40


@pytest.mark.django_db
def test_at_most_4_kib_of_an_answer_is_read(settings, make_client, local_server):
    server = local_server(stream_fifty_megabytes)

    reply = http_post_bounded(
        url=server.url(),
        body=b"{}",
        headers={},
        deadline_seconds=10,
        max_body_bytes=RESPONSE_KEEP_BYTES,
        allow_private_networks=True,
    )

    assert reply.status_code == 500
    assert reply.body == b"z" * 4096
    assert server.hung_up.wait(10)
    assert server.sent < FIFTY_MB  # the rest was never read


DELIVER_IN_A_PROCESS = """
import resource, sys, django
django.setup()
from apps.clients.webhooks import callback_deliver
def peak_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
callback_deliver(delivery_id=int(sys.argv[1]))  # warm-up: imports, connections, first request
before = peak_kib()
callback_deliver(delivery_id=int(sys.argv[2]))
print(before, peak_kib())
"""


def subprocess_env(database_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "smsbridge.settings_test",
        "DATABASE_URL": database_url,
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


@pytest.mark.slow
def test_a_50_mb_answer_does_not_grow_the_delivering_process_by_20_mb(
    database_url, make_client, local_server
):
    small = delivery_for(make_client, local_server(answer_ok).url())
    big_server = local_server(stream_fifty_megabytes)
    big = delivery_for(make_client, big_server.url())

    result = subprocess.run(
        [sys.executable, "-c", DELIVER_IN_A_PROCESS, str(small.id), str(big.id)],
        cwd=ROOT,
        env=subprocess_env(database_url, CALLBACK_TIMEOUT_SECONDS="20"),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    before, after = (int(v) for v in result.stdout.split()[-2:])
    assert after - before < 20 * 1024, f"peak RSS grew by {(after - before) // 1024} MiB"
    big.refresh_from_db()
    assert big.last_error.startswith("HTTP 500: zzz") and len(big.last_error) <= 220
    assert big_server.sent < FIFTY_MB


# --- attempts are counted when a delivery is claimed -------------------------------------------
@pytest.mark.django_db
def test_each_claim_counts_one_attempt(settings, make_client, local_server):
    server = local_server(lambda s, c: s.send(c, b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n"))
    delivery = delivery_for(make_client, server.url())

    callback_deliver(delivery_id=delivery.id)
    CallbackDelivery.objects.filter(id=delivery.id).update(next_attempt_at=timezone.now())
    callback_deliver(delivery_id=delivery.id)

    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert delivery.last_error == "HTTP 503: "
    assert callback_deliver(delivery_id=delivery.id) == "not_due"  # backing off: no attempt spent
    delivery.refresh_from_db()
    assert delivery.attempts == 2


DELIVER_ONE = """
import sys, django
django.setup()
from apps.clients.webhooks import callback_deliver
callback_deliver(delivery_id=int(sys.argv[1]))
"""


def kill_mid_delivery(database_url: str, delivery: CallbackDelivery, server: LocalServer) -> None:
    """Start a delivery in its own process and kill -9 it while the client server holds it."""
    seen = server.connections
    proc = subprocess.Popen(
        [sys.executable, "-c", DELIVER_ONE, str(delivery.id)],
        cwd=ROOT,
        env=subprocess_env(database_url, CALLBACK_TIMEOUT_SECONDS="60"),
        start_new_session=True,
    )
    try:
        wait_for(
            lambda: server.connections > seen or proc.poll() is not None,
            timeout=60,
            message="the POST to start",
        )
        assert proc.poll() is None, "the delivery process ended by itself"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.mark.slow
def test_a_worker_killed_mid_delivery_has_spent_the_attempt(
    database_url, settings, make_client, local_server
):
    server = local_server(hold_forever)
    delivery = delivery_for(make_client, server.url())

    kill_mid_delivery(database_url, delivery, server)

    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert delivery.status == CallbackDelivery.Status.PENDING
    assert delivery.next_attempt_at > timezone.now()  # leased: retried once the lease ends


@pytest.mark.slow
def test_a_delivery_that_kills_its_workers_fails_after_the_last_try(
    database_url, settings, make_client, local_server
):
    server = local_server(hold_forever)
    last = settings.CALLBACK_MAX_ATTEMPTS
    delivery = delivery_for(make_client, server.url(), attempts=last - 1)

    kill_mid_delivery(database_url, delivery, server)  # the last try dies with its worker
    CallbackDelivery.objects.filter(id=delivery.id).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )

    assert callback_deliver(delivery_id=delivery.id) == CallbackDelivery.Status.FAILED
    delivery.refresh_from_db()
    assert delivery.attempts == last
    assert delivery.status == CallbackDelivery.Status.FAILED
    assert delivery.last_error == "the last attempt did not finish (its worker stopped)"
    assert server.connections == 1  # no attempt beyond the last


# --- their own queue ------------------------------------------------------------------------------
def test_callback_deliveries_go_to_the_callbacks_queue_and_the_rest_stays_on_celery():
    router = app.amqp.router

    assert router.route({}, "apps.clients.tasks.callback_deliver_task")["queue"].name == "callbacks"
    assert router.route({}, "apps.clients.tasks.callback_dispatch_due_task")["queue"].name == "celery"
    assert router.route({}, "apps.abuse.tasks.abuse_sweep_task")["queue"].name == "celery"


@pytest.mark.slow
def test_a_callback_queued_in_a_transaction_is_delivered_by_a_callbacks_consumer(
    celery_worker, make_client, local_server
):
    from apps.clients.webhooks import callbacks_queue_on_commit

    server = local_server(answer_ok)
    delivery = delivery_for(make_client, server.url())
    from django.db import transaction

    with transaction.atomic():
        callbacks_queue_on_commit(event_ids=[delivery.event_id])

    wait_for(
        lambda: CallbackDelivery.objects.get(id=delivery.id).status == "delivered",
        timeout=30,
        message=celery_worker.logs,
    )
    consumed = app.control.inspect(timeout=2).active_queues() or {}
    assert any("callbacks" in {q["name"] for q in queues} for queues in consumed.values()), json.dumps(
        consumed
    )
