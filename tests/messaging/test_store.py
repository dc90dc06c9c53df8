"""The notification-events drain: the PostgreSQL copy follows, never backwards, and a
notification that ends is called back to its client once per ending."""

from typing import Any

import pytest

from apps.clients.models import CallbackDelivery, Client
from apps.core import keys
from apps.core.redis import get_redis
from apps.messaging.models import Notification
from apps.messaging.payloads import NotificationEvent
from apps.messaging.services.enqueue import notification_enqueue
from apps.messaging.services.status import RECEIPT, notification_change
from apps.messaging.services.store import notification_events_flush

pytestmark = pytest.mark.django_db

TO = "+919876543210"


@pytest.fixture
def hooked(make_client: Any, make_gateway: Any) -> Any:
    make_gateway("console")
    return make_client("Hooked", webhook_url="https://client.example.com/hook")


def queued(client: Any) -> str:
    return notification_enqueue(client_id=client.id, channel="sms", to=TO, body="hello").id


def events() -> list[str]:
    return [str(raw) for raw in get_redis().lrange(keys.notification_events(), 0, -1)]


def test_the_row_follows_every_change_to_the_newest(
    hooked: Any, django_capture_on_commit_callbacks: Any
) -> None:
    notification_id = queued(hooked)
    notification_change(notification_id=notification_id, status="sending", attempts=1)
    notification_change(notification_id=notification_id, status="sent", provider_id="p-1", gateway_id="")
    with django_capture_on_commit_callbacks():
        assert notification_events_flush() == 3
    row = Notification.objects.get(id=notification_id)
    assert (row.status, row.attempts, row.provider_message_id, row.seq) == ("sent", 1, "p-1", 3)
    assert row.to == TO and row.body == "hello"


def test_an_ending_is_called_back_once_even_when_its_batch_is_replayed(
    hooked: Any, django_capture_on_commit_callbacks: Any
) -> None:
    notification_id = queued(hooked)
    notification_change(notification_id=notification_id, status="sent", provider_id="p-1")
    notification_change(notification_id=notification_id, status="failed", by=RECEIPT, last_error="UNDELIV")
    pending = events()
    with django_capture_on_commit_callbacks():
        notification_events_flush()
        get_redis().rpush(keys.notification_events(), *reversed(pending))  # the batch again
        notification_events_flush()
    callback = CallbackDelivery.objects.get()
    assert callback.event_type == "notification.failed"
    assert callback.payload == {
        "event": "notification.failed",
        "id": notification_id,
        "channel": "sms",
        "status": "failed",
        "attempts": 0,
        "last_error": "UNDELIV",
    }


def test_an_older_change_arriving_late_changes_nothing(
    hooked: Any, django_capture_on_commit_callbacks: Any
) -> None:
    notification_id = queued(hooked)
    notification_change(notification_id=notification_id, status="sending", attempts=1)
    notification_change(notification_id=notification_id, status="sent", provider_id="p-1")
    older, newer = events()[1], events()[0]  # LPUSH: the newest first
    get_redis().delete(keys.notification_events())
    get_redis().lpush(keys.notification_events(), events_queued(notification_id, hooked.id))
    with django_capture_on_commit_callbacks():
        notification_events_flush()
        get_redis().lpush(keys.notification_events(), newer)
        notification_events_flush()
        get_redis().lpush(keys.notification_events(), older)
        notification_events_flush()
    assert Notification.objects.get(id=notification_id).status == "sent"


def events_queued(notification_id: str, client_id: str) -> str:
    return NotificationEvent(
        id=notification_id,
        seq=1,
        status="queued",
        at=1.0,
        client_id=client_id,
        channel="sms",
        to=TO,
        body="x",
    ).to_json()


def test_a_client_deleted_meanwhile_does_not_poison_the_batch(
    make_client: Any, hooked: Any, django_capture_on_commit_callbacks: Any
) -> None:
    gone = make_client("Gone")
    lost, kept = queued(gone), queued(hooked)
    Client.objects.filter(id=gone.id).delete()
    with django_capture_on_commit_callbacks():
        notification_events_flush()
    assert [str(pk) for pk in Notification.objects.values_list("id", flat=True)] == [kept]
    assert get_redis().llen(keys.dead_letter(keys.notification_events())) == 0
    assert lost


def test_a_client_without_a_webhook_gets_no_callback(
    make_client: Any, make_gateway: Any, django_capture_on_commit_callbacks: Any
) -> None:
    make_gateway("console")
    quiet = make_client("Quiet")
    notification_id = queued(quiet)
    notification_change(notification_id=notification_id, status="failed", last_error="x")
    with django_capture_on_commit_callbacks():
        notification_events_flush()
    assert Notification.objects.get(id=notification_id).status == "failed"
    assert not CallbackDelivery.objects.exists()


def test_a_gateway_deleted_since_its_send_poisons_nothing(
    hooked: Any, make_gateway: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from apps.inbound.models import Gateway

    gone = make_gateway("console")
    notification_id = queued(hooked)
    notification_change(
        notification_id=notification_id, status="sent", gateway_id=str(gone.id), provider_id="p"
    )
    Gateway.objects.filter(id=gone.id).delete()
    with django_capture_on_commit_callbacks():
        notification_events_flush()
    row = Notification.objects.get(id=notification_id)
    assert (row.status, row.gateway_id) == ("sent", None)
    assert get_redis().llen(keys.dead_letter(keys.notification_events())) == 0
