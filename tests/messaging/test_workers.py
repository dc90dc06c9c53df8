"""Notifications with real processes: a real worker and beat, a private Redis, a local
Android gateway API, and a client webhook server. Nothing lost, nothing sent twice."""

import json
import random
import time
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from standardwebhooks.webhooks import Webhook

from apps.clients.services import client_create
from apps.core import keys
from apps.inbound.send_config import SendConfig
from apps.inbound.services import gateway_create
from apps.messaging.models import Notification
from tests.helpers import android_headers
from tests.polling import wait_for
from tests.processes import Cluster, cluster

from .providers import AndroidGatewayServer

pytestmark = pytest.mark.slow


def _setup(
    c: Cluster, settings: Any, server: AndroidGatewayServer, webhook_url: str = ""
) -> tuple[Any, str, Any]:
    c.use_in(settings)
    c.data().set(keys.redis_ready(), time.time())
    client, api_key = client_create(name=f"notify {time.time()}", webhook_url=webhook_url)
    send = SendConfig(url=server.url, username=server.login, password=server.password)
    gateway, secret = gateway_create(kind="android", name="phone", send=send)
    return client, api_key, (gateway, secret)


def test_a_notification_goes_out_is_delivered_and_its_client_is_told(
    database_url: str, settings: Any, api: Any, httpserver: HTTPServer
) -> None:
    calls: list[Any] = []

    def hook(request: Any) -> Any:
        calls.append(request)
        return _ok()

    httpserver.expect_request("/hook", method="POST").respond_with_handler(hook)
    server = AndroidGatewayServer()
    try:
        with cluster(database_url) as c:
            client, api_key, (gateway, secret) = _setup(c, settings, server, httpserver.url_for("/hook"))
            c.worker()
            c.beat()
            answer = api.post(
                "/notifications",
                {"channel": "sms", "to": "+919876543210", "body": "Your order shipped"},
                format="json",
                HTTP_AUTHORIZATION=f"Bearer {api_key}",
            )
            assert answer.status_code == 202
            notification_id = answer.json()["id"]
            wait_for(lambda: server.sends[notification_id] == 1, timeout=30, message=lambda: c.logs())
            status = api.get(
                f"/notifications/{notification_id}", HTTP_AUTHORIZATION=f"Bearer {api_key}"
            ).json()
            wait_for(
                lambda: (
                    api.get(
                        f"/notifications/{notification_id}", HTTP_AUTHORIZATION=f"Bearer {api_key}"
                    ).json()["status"]
                    == "sent"
                ),
                timeout=10,
            )
            # The phone reports delivery through its sms:delivered webhook.
            receipt = json.dumps(
                {
                    "deviceId": "ffffffffceb0b1db0000018e937c815b",
                    "event": "sms:delivered",
                    "id": "Ey6ECgOkVVFjz3CL48B8C",
                    "webhookId": "LreFUt-Z3sSq0JufY9uWB",
                    "payload": {
                        "messageId": notification_id,
                        "phoneNumber": "+919876543210",
                        "deliveredAt": "2026-12-01T10:00:00.000+05:30",
                    },
                }
            ).encode()
            reply = api.post(
                f"/notifications/receipts/android/{gateway.id}",
                receipt,
                content_type="application/json",
                **android_headers(secret, receipt),
            )
            assert reply.status_code == 200, reply.content
            wait_for(
                lambda: Notification.objects.filter(id=notification_id, status="delivered").exists(),
                timeout=30,
                message=lambda: c.logs(),
            )
            wait_for(
                lambda: calls, timeout=30, message=lambda: "a notification.delivered callback\n" + c.logs()
            )
    finally:
        server.stop()
    assert status["gateway_id"] in (None, str(gateway.id))
    request = calls[0]
    body = Webhook(client.webhook_secret).verify(request.get_data(as_text=True), dict(request.headers))
    assert body == {
        "event": "notification.delivered",
        "id": notification_id,
        "channel": "sms",
        "status": "delivered",
        "attempts": 1,
        "last_error": "",
    }
    row = Notification.objects.get(id=notification_id)
    assert (row.status, row.gateway_id, row.body) == ("delivered", gateway.id, "Your order shipped")


def _statuses(r: Any, ids: list[str]) -> list[str | None]:
    with r.pipeline(transaction=False) as pipe:
        for notification_id in ids:
            pipe.hget(keys.notification(notification_id), "status")
        return pipe.execute()


def _under_way_or_done(statuses: list[str | None]) -> list[str | None] | None:
    return statuses if "sending" in statuses or "queued" not in statuses else None


def _kill_workers_mid_send(c: Cluster, r: Any, ids: list[str], *, kills_wanted: int = 6) -> int:
    """kill -9 the worker while a provider call is under way (some notification is
    ``sending``), restarting it each time; returns the kills that landed mid-send."""
    worker = c.worker()
    landed = 0
    for _ in range(kills_wanted):
        statuses = wait_for(
            lambda: _under_way_or_done(_statuses(r, ids)),
            timeout=60,
            message=lambda: "a send under way:\n" + c.logs(),
        )
        if "queued" not in statuses and "sending" not in statuses:
            break  # everything went out before the kills were done
        time.sleep(random.uniform(0, 0.03))
        worker.kill9()
        landed += "sending" in _statuses(r, ids)
        worker = c.worker()
    worker.kill9()
    return landed


def _ok() -> Any:
    from werkzeug import Response

    return Response("ok", status=200)


def test_killing_workers_while_notifications_go_out_sends_each_exactly_once(
    database_url: str, settings: Any
) -> None:
    from apps.messaging.services.enqueue import notification_enqueue

    count = 200
    server = AndroidGatewayServer()
    server.delay = 0.1  # a slow phone: a kill can land while a provider call is under way
    try:
        with cluster(
            database_url,
            NOTIFICATION_BATCH_SIZE="10",
            NOTIFICATION_SEND_CONCURRENCY="4",
            NOTIFICATION_SAFETY_INTERVAL="0.3",
        ) as c:
            client, _, _ = _setup(c, settings, server)
            ids = [
                notification_enqueue(
                    client_id=str(client.id), channel="sms", to=f"+9198765{n:05d}", body="hi"
                ).id
                for n in range(count)
            ]
            c.beat()
            r = c.data()
            kills = _kill_workers_mid_send(c, r, ids)
            c.worker()  # one left alive to finish any retries and drain the changes
            wait_for(
                lambda: all(r.hget(keys.notification(i), "status") == "sent" for i in ids),
                timeout=120,
                message=lambda: c.logs(),
            )
            wait_for(
                lambda: Notification.objects.filter(id__in=ids, status="sent").count() == count,
                timeout=60,
                message=lambda: c.logs(),
            )
            assert r.llen(keys.dead_letter(keys.notification_queue())) == 0
    finally:
        server.stop()
    assert kills >= 3
    # The replacement workers found sends cut off mid-way and asked the phone about them.
    assert any(request.method == "GET" for request in server.requests)
    posted = [server.sends[i] for i in ids]
    assert posted == [1] * count, {i: server.sends[i] for i in ids if server.sends[i] != 1}
    assert set(server.messages) == set(ids)
