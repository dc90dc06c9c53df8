"""POST /notifications and GET /notifications/{id}: Redis only, one error shape, no leaks."""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core import keys
from apps.core.redis import get_redis
from apps.core.system_settings import system_setting_set
from apps.inbound.send_config import SendConfig
from apps.messaging.payloads import NotificationEvent, NotificationRecord

pytestmark = pytest.mark.django_db

SMS_TO = "+919876543210"


@pytest.fixture
def console(make_gateway: Any) -> Any:
    return make_gateway("console")


def post(api: Any, creds: Any, **payload: Any) -> Any:
    return api.post("/notifications", payload, format="json", **creds.auth)


def queued_records() -> list[NotificationRecord]:
    return [NotificationRecord.from_json(raw) for raw in get_redis().lrange(keys.notification_queue(), 0, -1)]


def test_an_sms_is_queued_in_redis_only(
    api: Any, client_creds: Any, console: Any, warm_hot_path: Any
) -> None:
    post(api, client_creds, channel="sms", to="9876500000", body="warm-up")  # caches, mirrors
    with CaptureQueriesContext(connection) as queries:
        answer = post(api, client_creds, channel="sms", to="98765 43210", body="Your code is 123456")
    assert answer.status_code == 202, answer.content
    assert len(queries) == 0
    body = answer.json()
    assert body["status"] == "queued"
    assert answer["RateLimit-Limit"] == "600"
    record = queued_records()[0]
    assert (record.id, record.channel, record.to, record.client_id) == (
        body["id"],
        "sms",
        SMS_TO,
        client_creds.id,
    )
    live = get_redis().hgetall(keys.notification(body["id"]))
    assert live["status"] == "queued" and live["client_id"] == client_creds.id and live["seq"] == "1"
    assert 0 < get_redis().ttl(keys.notification(body["id"])) <= keys.NOTIFICATION_TTL
    events = [NotificationEvent.from_json(e) for e in get_redis().lrange(keys.notification_events(), 0, -1)]
    assert next((e.id, e.status, e.seq, e.to) for e in events) == (body["id"], "queued", 1, SMS_TO)


def test_an_email_is_queued_with_its_subject(api: Any, client_creds: Any, console: Any) -> None:
    answer = post(api, client_creds, channel="email", to="Ada@Example.COM", subject="Hello", body="Hi Ada")
    assert answer.status_code == 202
    record = queued_records()[0]
    assert (record.to, record.subject, record.body) == ("Ada@example.com", "Hello", "Hi Ada")


def test_the_same_idempotency_key_returns_the_first_id_and_queues_nothing(
    api: Any, make_client: Any, console: Any
) -> None:
    acme, other = make_client("Acme"), make_client("Other")
    first = post(api, acme, channel="sms", to=SMS_TO, body="one", idempotency_key="order-42")
    again = post(api, acme, channel="sms", to=SMS_TO, body="two", idempotency_key="order-42")
    assert again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert len(queued_records()) == 1
    theirs = post(api, other, channel="sms", to=SMS_TO, body="one", idempotency_key="order-42")
    assert theirs.json()["id"] != first.json()["id"]  # one client's key never answers for another
    assert len(queued_records()) == 2


def test_a_repeat_is_answered_even_when_the_budget_is_spent(
    api: Any, client_creds: Any, console: Any
) -> None:
    system_setting_set(key="notification_rate_per_minute", value=1)
    first = post(api, client_creds, channel="sms", to=SMS_TO, body="x", idempotency_key="k")
    assert (
        post(api, client_creds, channel="sms", to=SMS_TO, body="x", idempotency_key="k").json()
        == first.json()
    )
    refused = post(api, client_creds, channel="sms", to=SMS_TO, body="x", idempotency_key="other")
    assert refused.status_code == 429


def test_a_client_over_its_budget_gets_429_and_another_client_does_not(
    api: Any, make_client: Any, console: Any
) -> None:
    system_setting_set(key="notification_rate_per_minute", value=2)
    acme, other = make_client("Acme"), make_client("Other")
    codes = [post(api, acme, channel="sms", to=SMS_TO, body="x").status_code for _ in range(3)]
    assert codes == [202, 202, 429]
    refused = post(api, acme, channel="sms", to=SMS_TO, body="x")
    assert refused.json()["code"] == "rate_limited"
    assert int(refused["Retry-After"]) >= 1 and refused["RateLimit-Remaining"] == "0"
    assert post(api, other, channel="sms", to=SMS_TO, body="x").status_code == 202
    assert len(queued_records()) == 3


def test_one_destination_is_limited_per_client(api: Any, client_creds: Any, console: Any) -> None:
    system_setting_set(key="notification_per_destination_per_hour", value=2)
    codes = [post(api, client_creds, channel="sms", to=SMS_TO, body="x").status_code for _ in range(3)]
    assert codes == [202, 202, 429]
    assert post(api, client_creds, channel="sms", to="+919876543211", body="x").status_code == 202


def test_no_gateway_for_the_destination_is_403(api: Any, client_creds: Any, make_gateway: Any) -> None:
    assert (
        post(api, client_creds, channel="sms", to=SMS_TO, body="x").json()["code"]
        == "destination_not_permitted"
    )
    make_gateway("smtp")  # email only
    make_gateway(
        "android", send=SendConfig(url="http://127.0.0.1:9", username="u", password="p"), countries=[44]
    )
    assert post(api, client_creds, channel="sms", to=SMS_TO, body="x").status_code == 403
    assert post(api, client_creds, channel="sms", to="+447911123456", body="x").status_code == 202
    assert post(api, client_creds, channel="email", to="a@example.com", body="x").status_code == 202
    assert len(queued_records()) == 2


def test_a_receive_only_or_inactive_gateway_is_no_route(
    api: Any, client_creds: Any, make_gateway: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from apps.inbound.services import gateway_deactivate

    make_gateway("android")  # receives only: no send URL
    assert post(api, client_creds, channel="sms", to=SMS_TO, body="x").status_code == 403
    console = make_gateway("console")
    assert post(api, client_creds, channel="sms", to=SMS_TO, body="x").status_code == 202
    with django_capture_on_commit_callbacks(execute=True):
        gateway_deactivate(gateway=console.model)
    assert post(api, client_creds, channel="sms", to=SMS_TO, body="x").status_code == 403


def test_a_blacklisted_number_is_403(api: Any, client_creds: Any, console: Any) -> None:
    get_redis().sadd(keys.blacklist_mobiles(), "9876543210")
    answer = post(api, client_creds, channel="sms", to=SMS_TO, body="x")
    assert answer.status_code == 403 and answer.json()["code"] == "destination_not_permitted"
    assert queued_records() == []


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"channel": "fax", "to": SMS_TO, "body": "x"}, "channel"),
        ({"channel": "sms", "to": "12345", "body": "x"}, "detail"),
        ({"channel": "sms", "to": "+91 98765 43210 ext 2", "body": "x"}, "detail"),
        ({"channel": "sms", "to": "a@example.com", "body": "x"}, "detail"),
        ({"channel": "email", "to": "not-an-address", "body": "x"}, "detail"),
        ({"channel": "email", "to": SMS_TO, "body": "x"}, "detail"),
        ({"channel": "sms", "to": SMS_TO, "body": ""}, "body"),
        ({"channel": "sms", "to": SMS_TO, "body": "   "}, "detail"),
        ({"channel": "sms", "to": SMS_TO, "body": "x" * 1601}, "detail"),
        ({"channel": "email", "to": "a@example.com", "body": "é" * 40000}, "detail"),
        (
            {"channel": "email", "to": "a@example.com", "body": "x", "subject": "a\nBcc: b@example.com"},
            "detail",
        ),
        ({"channel": "email", "to": "a@example.com", "body": "x", "subject": "s" * 201}, "subject"),
        ({"channel": "sms", "to": SMS_TO, "body": "x", "idempotency_key": "k" * 129}, "idempotency_key"),
        ({"channel": "sms", "to": SMS_TO, "body": "x", "priority": 1}, "priority"),
        ({"channel": "sms", "body": "x"}, "to"),
        ({"channel": "sms", "to": ["+919876543210"], "body": "x"}, "to"),
        ({"channel": "sms", "to": SMS_TO, "body": {"text": "x"}}, "body"),
    ],
)
def test_bad_input_is_400_and_queues_nothing(
    api: Any, client_creds: Any, console: Any, payload: dict, field: str
) -> None:
    answer = post(api, client_creds, **payload)
    assert answer.status_code == 400, answer.content
    body = answer.json()
    assert "code" in body and "detail" in body
    assert field == "detail" or field in body["errors"]  # a field's own error names it
    assert queued_records() == []


def test_sms_body_of_1600_characters_and_email_of_64_kib_are_accepted(
    api: Any, client_creds: Any, console: Any
) -> None:
    assert post(api, client_creds, channel="sms", to=SMS_TO, body="x" * 1600).status_code == 202
    big = "x" * (64 * 1024)
    assert post(api, client_creds, channel="email", to="a@example.com", body=big).status_code == 202


@pytest.mark.parametrize(
    ("raw", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b"channel=sms", "application/x-www-form-urlencoded", 415),
        (b"x" * (257 * 1024), "application/json", 413),
    ],
)
def test_malformed_bodies_are_4xx(
    api: Any, client_creds: Any, console: Any, raw: bytes, content_type: str, status: int
) -> None:
    answer = api.generic("POST", "/notifications", raw, content_type=content_type, **client_creds.auth)
    assert answer.status_code == status
    assert set(answer.json()) >= {"detail", "code"}


def test_no_key_or_a_revoked_key_is_401(
    api: Any, client_creds: Any, console: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from apps.clients.models import ApiKey
    from apps.clients.services import api_key_revoke

    assert (
        api.post("/notifications", {"channel": "sms", "to": SMS_TO, "body": "x"}, format="json").status_code
        == 401
    )
    with django_capture_on_commit_callbacks(execute=True):
        api_key_revoke(api_key=ApiKey.objects.get(client_id=client_creds.id))
    assert post(api, client_creds, channel="sms", to=SMS_TO, body="x").status_code == 401


def test_redis_without_its_data_is_503(api: Any, client_creds: Any, console: Any) -> None:
    get_redis().delete(keys.redis_ready())
    answer = post(api, client_creds, channel="sms", to=SMS_TO, body="x")
    assert answer.status_code == 503 and answer.json()["code"] == "warming_up"


def test_status_is_read_from_redis_and_only_by_its_client(
    api: Any, make_client: Any, console: Any, warm_hot_path: Any
) -> None:
    acme, other = make_client("Acme"), make_client("Other")
    notification_id = post(api, acme, channel="sms", to=SMS_TO, body="x").json()["id"]
    api.get(f"/notifications/{notification_id}", **acme.auth)  # warm the key cache
    with CaptureQueriesContext(connection) as queries:
        answer = api.get(f"/notifications/{notification_id}", **acme.auth)
    assert len(queries) == 0
    assert answer.status_code == 200
    assert answer.json() == {
        "id": notification_id,
        "channel": "sms",
        "status": "queued",
        "attempts": 0,
        "last_error": "",
        "gateway_id": None,
    }
    theirs = api.get(f"/notifications/{notification_id}", **other.auth)
    unknown = api.get("/notifications/6f1c3c55-0000-4000-8000-000000000000", **acme.auth)
    garbage = api.get("/notifications/not-a-uuid", **acme.auth)
    assert theirs.status_code == unknown.status_code == garbage.status_code == 404
    assert theirs.json() == unknown.json()  # another client's id reads as unknown
    assert api.get(f"/notifications/{notification_id}").status_code == 401


def test_the_uppercase_form_of_an_id_is_the_same_notification(
    api: Any, client_creds: Any, console: Any
) -> None:
    notification_id = post(api, client_creds, channel="sms", to=SMS_TO, body="x").json()["id"]
    answer = api.get(f"/notifications/{notification_id.upper()}", **client_creds.auth)
    assert answer.status_code == 200 and answer.json()["id"] == notification_id


@pytest.mark.usefixtures("console")
def test_sensitive_bodies_are_sent_but_not_kept(client_creds: Any) -> None:
    from apps.messaging.services.enqueue import notification_enqueue

    notification_enqueue(
        client_id=client_creds.id, channel="sms", to=SMS_TO, body="code 123456", sensitive=True
    )
    event = NotificationEvent.from_json(get_redis().lrange(keys.notification_events(), 0, 0)[0])
    assert event.body == "" and event.body_redacted
    assert queued_records()[0].body == "code 123456" and queued_records()[0].sensitive
