"""The sender, in-process: routing, failover, cool-downs, retries, rejections, replays.

A local HTTP server stands in for SMS Gateway for Android's message API (the adapter's
real client talks to it); a console gateway is the always-working fallback. Time is
moved by editing the cool-down keys and the retry schedule, never by sleeping.
"""

import json
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from apps.core import keys
from apps.core.redis import get_redis
from apps.core.system_settings import system_setting_set
from apps.inbound.send_config import SendConfig
from apps.messaging.models import Notification, OutboxMessage
from apps.messaging.services.enqueue import notification_enqueue
from apps.messaging.services.routing import routes_forget
from apps.messaging.services.sender import notifications_send_pending
from apps.messaging.services.store import notification_events_flush

pytestmark = pytest.mark.django_db(transaction=True)

TO = "+919876543210"


@pytest.fixture(autouse=True)
def _fresh_routes() -> Any:
    routes_forget()
    yield
    routes_forget()


def android_state(message_id: str, state: str = "Pending") -> dict:
    return {"id": message_id, "state": state, "recipients": [{"phoneNumber": TO, "state": state}]}


def android_accepts(request: Request) -> Response:
    message = json.loads(request.data)
    return Response(json.dumps(android_state(message["id"])), status=202, content_type="application/json")


def android(make_gateway: Any, url: str, *, priority: int = 10, countries: tuple = ()) -> Any:
    send = SendConfig(url=url, username="sms", password="android-pass", priority=priority)
    return make_gateway("android", send=send, countries=list(countries))


def console(make_gateway: Any, *, priority: int = 100) -> Any:
    return make_gateway("console", send=SendConfig(priority=priority))


def queue(client_creds: Any, to: str = TO, **fields: Any) -> str:
    return notification_enqueue(client_id=client_creds.id, channel="sms", to=to, body="hello", **fields).id


def live(notification_id: str) -> dict:
    return get_redis().hgetall(keys.notification(notification_id))


def posts(server: HTTPServer) -> list[dict]:
    return [json.loads(req.data) for req, _ in server.log if req.method == "POST"]


def test_a_notification_is_sent_through_the_first_gateway(
    client_creds: Any, make_gateway: Any, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/messages", method="POST").respond_with_handler(android_accepts)
    phone = android(make_gateway, httpserver.url_for("/"), priority=1)
    console(make_gateway)
    notification_id = queue(client_creds)
    assert notifications_send_pending() == 1
    state = live(notification_id)
    assert (state["status"], state["attempts"], state["gateway_id"]) == ("sent", "1", str(phone.id))
    assert state["provider_id"] == notification_id  # the Android API keeps the id we give
    assert [p["id"] for p in posts(httpserver)] == [notification_id]
    assert get_redis().get(keys.notification_ref(str(phone.id), notification_id)) == notification_id
    assert not OutboxMessage.objects.exists()  # the console fallback was not needed


def test_a_failing_gateway_is_skipped_for_a_cool_down_and_the_next_one_sends(
    client_creds: Any, make_gateway: Any
) -> None:
    broken = android(make_gateway, "http://127.0.0.1:9", priority=1)  # nothing listens there
    fallback = console(make_gateway)
    first = queue(client_creds)
    notifications_send_pending()
    assert (live(first)["status"], live(first)["gateway_id"]) == ("sent", str(fallback.id))
    assert get_redis().pttl(keys.gateway_cooldown(str(broken.id))) > 0
    assert get_redis().get(keys.gateway_failures(str(broken.id))) == "1"
    second = queue(client_creds, to="+919876543211")
    notifications_send_pending()
    assert live(second)["status"] == "sent"
    # Skipped while cooling down: not tried again, so no second failure was counted.
    assert get_redis().get(keys.gateway_failures(str(broken.id))) == "1"
    assert OutboxMessage.objects.count() == 2


def test_cool_downs_double_with_each_failure_in_a_row(client_creds: Any, make_gateway: Any) -> None:
    system_setting_set(key="gateway_cooldown_seconds", value=10)
    broken = android(make_gateway, "http://127.0.0.1:9", priority=1)
    console(make_gateway)
    cooldowns = []
    for n in range(3):
        queue(client_creds, to=f"+91987654321{n}")
        notifications_send_pending()
        cooldowns.append(get_redis().pttl(keys.gateway_cooldown(str(broken.id))))
        get_redis().delete(keys.gateway_cooldown(str(broken.id)))  # the cool-down is over
    assert 9_000 < cooldowns[0] <= 10_000
    assert 19_000 < cooldowns[1] <= 20_000
    assert 39_000 < cooldowns[2] <= 40_000


def scheduled() -> list[tuple[str, float]]:
    """The retry schedule: (notification JSON, due at epoch ms), soonest first."""
    found: list[Any] = get_redis().zrange(keys.notification_retry(), 0, -1, withscores=True)
    return [(str(member), float(due)) for member, due in found]


def _time_passes(gateway_ids: list[str]) -> None:
    """Every cool-down over and every scheduled retry due."""
    r = get_redis()
    for gateway_id in gateway_ids:
        r.delete(keys.gateway_cooldown(gateway_id))
    for member, _ in scheduled():
        r.zadd(keys.notification_retry(), {member: 0})


def test_retries_with_backoff_then_failed_with_the_last_error(
    client_creds: Any, make_gateway: Any, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/messages", method="POST").respond_with_json({"message": "boom"}, status=500)
    phone = android(make_gateway, httpserver.url_for("/"))
    notification_id = queue(client_creds)
    notifications_send_pending()
    state = live(notification_id)
    assert (state["status"], state["attempts"]) == ("queued", "1")
    assert "android gateway" in state["last_error"]
    due = scheduled()
    assert len(due) == 1 and json.loads(due[0][0])["attempts"] == 1
    for attempt in (2, 3):
        _time_passes([str(phone.id)])
        notifications_send_pending()
        assert live(notification_id)["attempts"] == str(attempt)
    assert live(notification_id)["status"] == "failed"
    assert len(posts(httpserver)) == 3  # notification_max_attempts, and not one more
    _time_passes([str(phone.id)])
    notifications_send_pending()
    assert len(posts(httpserver)) == 3
    assert get_redis().zcard(keys.notification_retry()) == 0


def test_the_backoff_doubles(client_creds: Any, make_gateway: Any) -> None:
    import time

    system_setting_set(key="notification_retry_base_seconds", value=100)
    phone = android(make_gateway, "http://127.0.0.1:9")
    queue(client_creds)
    delays = []
    for _ in range(2):
        started = time.time() * 1000
        notifications_send_pending()
        (_, due), *_ = scheduled()
        delays.append(due - started)
        _time_passes([str(phone.id)])
    assert 90_000 * 0.99 < delays[0] < 110_000 * 1.01
    assert 180_000 * 0.99 < delays[1] < 220_000 * 1.01


def test_a_permanent_rejection_fails_at_once_without_trying_the_next_gateway(
    client_creds: Any, make_gateway: Any, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/messages", method="POST").respond_with_json(
        {"message": "invalid phone number"}, status=400
    )
    phone = android(make_gateway, httpserver.url_for("/"), priority=1)
    console(make_gateway)
    notification_id = queue(client_creds)
    notifications_send_pending()
    state = live(notification_id)
    assert (state["status"], state["attempts"], state["gateway_id"]) == ("failed", "1", str(phone.id))
    assert not OutboxMessage.objects.exists()
    assert get_redis().zcard(keys.notification_retry()) == 0
    assert not get_redis().exists(keys.gateway_cooldown(str(phone.id)))  # the gateway itself is fine


def test_every_gateway_cooling_down_defers_without_spending_an_attempt(
    client_creds: Any, make_gateway: Any
) -> None:
    phone = android(make_gateway, "http://127.0.0.1:9")
    get_redis().set(keys.gateway_cooldown(str(phone.id)), 1, px=30_000)
    notification_id = queue(client_creds)
    notifications_send_pending()
    assert (live(notification_id)["status"], live(notification_id)["attempts"]) == ("queued", "0")
    (member, due), *_ = scheduled()
    assert json.loads(member)["attempts"] == 0
    assert due > 25_000  # the cool-down's end, not a retry backoff


def test_a_gateway_gone_since_the_notification_was_queued_fails_it(
    client_creds: Any, make_gateway: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from apps.inbound.services import gateway_deactivate

    gateway = console(make_gateway)
    notification_id = queue(client_creds)
    with django_capture_on_commit_callbacks(execute=True):
        gateway_deactivate(gateway=gateway.model)
    routes_forget()
    notifications_send_pending()
    state = live(notification_id)
    assert state["status"] == "failed" and "no sending gateway" in state["last_error"]


def test_only_gateways_that_cover_the_country_are_used(
    client_creds: Any, make_gateway: Any, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/messages", method="POST").respond_with_handler(android_accepts)
    uk = android(make_gateway, httpserver.url_for("/"), priority=1, countries=(44,))
    india = console(make_gateway)
    to_india, to_uk = queue(client_creds), queue(client_creds, to="+447911123456")
    notifications_send_pending()
    assert live(to_india)["gateway_id"] == str(india.id)
    assert live(to_uk)["gateway_id"] == str(uk.id)


def test_a_replayed_batch_sends_nothing_twice(
    client_creds: Any, make_gateway: Any, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/messages", method="POST").respond_with_handler(android_accepts)
    android(make_gateway, httpserver.url_for("/"))
    ids = [queue(client_creds, to=f"+91987654321{n}") for n in range(3)]
    items = get_redis().lrange(keys.notification_queue(), 0, -1)
    notifications_send_pending()
    get_redis().rpush(keys.notification_queue(), *items)  # the same batch handed out again
    notifications_send_pending()
    assert sorted(p["id"] for p in posts(httpserver)) == sorted(ids)


def left_sending(client_creds: Any, make_gateway: Any, server: HTTPServer, *, phone_has_it: bool) -> str:
    """A notification a dead worker left ``sending`` through the phone; asked about it,
    the phone answers with its state, or 404."""
    phone = android(make_gateway, server.url_for("/"))
    notification_id = queue(client_creds)
    # The dead worker's last words: "sending through this gateway".
    get_redis().hset(
        keys.notification(notification_id),
        mapping={"status": "sending", "attempts": 1, "gateway_id": str(phone.id)},
    )
    found = (
        (android_state(notification_id, "Sent"), 200)
        if phone_has_it
        else ({"message": "message not found"}, 404)
    )
    server.expect_request(f"/messages/{notification_id}", method="GET").respond_with_json(
        found[0], status=found[1]
    )
    server.expect_request("/messages", method="POST").respond_with_handler(android_accepts)
    return notification_id


def test_one_left_sending_by_a_dead_worker_is_not_sent_again_when_the_phone_has_it(
    client_creds: Any, make_gateway: Any, httpserver: HTTPServer
) -> None:
    notification_id = left_sending(client_creds, make_gateway, httpserver, phone_has_it=True)
    notifications_send_pending()
    assert live(notification_id)["status"] == "sent"
    assert posts(httpserver) == []


def test_one_left_sending_that_the_phone_never_got_is_sent(
    client_creds: Any, make_gateway: Any, httpserver: HTTPServer
) -> None:
    notification_id = left_sending(client_creds, make_gateway, httpserver, phone_has_it=False)
    notifications_send_pending()
    assert (live(notification_id)["status"], live(notification_id)["attempts"]) == ("sent", "2")
    assert [p["id"] for p in posts(httpserver)] == [notification_id]


def test_the_postgresql_copy_follows_and_a_sensitive_body_is_not_kept(
    client_creds: Any, make_gateway: Any
) -> None:
    console(make_gateway)
    plain = queue(client_creds)
    secret = notification_enqueue(
        client_id=client_creds.id, channel="sms", to=TO, body="code 424242", sensitive=True
    ).id
    notifications_send_pending()
    assert notification_events_flush() > 0
    rows = {str(n.id): n for n in Notification.objects.all()}
    assert rows[plain].status == "sent" and rows[plain].body == "hello"
    assert rows[secret].status == "sent" and rows[secret].body == "" and rows[secret].body_redacted
    assert rows[plain].seq == int(live(plain)["seq"])
    # The console outbox is the developer's view: the code is there to be read.
    assert OutboxMessage.objects.get(notification_id=secret).body == "code 424242"
