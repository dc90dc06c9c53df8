"""The operator surfaces of outbound messages: the notifications admin and its Retry, the
console outbox, the gateway admin's sending settings, the dashboard panel, /metrics and
bridge_status.

A failed notification is made the way one fails in service: queued through
``notification_enqueue`` while a console gateway covers it, then sent by the sender after
that gateway was deactivated (no route left), and stored by the notification-events drain.
"""

import json
import time
import uuid
from io import StringIO
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from apps.core import keys
from apps.core.crypto import secret_decrypt
from apps.core.exceptions import ApplicationError
from apps.core.models import OperatorAction
from apps.core.operator_log import Actor
from apps.core.redis import get_redis
from apps.inbound.models import Gateway
from apps.inbound.send_config import SendConfig
from apps.inbound.services import gateway_activate, gateway_deactivate
from apps.messaging.models import Notification, OutboxMessage
from apps.messaging.payloads import NotificationEvent, NotificationRecord
from apps.messaging.services.enqueue import notification_enqueue
from apps.messaging.services.retry import BODY_NOT_STORED, notification_retry
from apps.messaging.services.routing import routes_forget
from apps.messaging.services.sender import NO_ROUTE, notifications_send_pending
from apps.messaging.services.store import notification_events_flush
from tests.admin.test_list_widths import narrowest_width, room
from tests.factories import ClientFactory

# Committed rows: the sender's threads read gateways and write the outbox on connections of their own.
pytestmark = pytest.mark.django_db(transaction=True)

CHANGELIST = "/admin/messaging/notification/"
OUTBOX = "/admin/messaging/outboxmessage/"
GATEWAYS = "/admin/inbound/gateway/"
TO = "+919876543210"
BODY = "Your parcel is out for delivery"
OPERATOR = Actor(name="os:ops", source="command")
LONG_ERROR = (
    "android gateway unreachable: ConnectionError: HTTPConnectionPool(host='phone-gateway.warehouse.example', "
    "port=8080): Max retries exceeded with url: /messages"
)


@pytest.fixture(autouse=True)
def _fresh_routes() -> Any:
    routes_forget()
    yield
    routes_forget()


@pytest.fixture
def console(make_gateway: Any) -> Any:
    return make_gateway("console")


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def live(notification_id: str) -> dict[str, str]:
    return {str(k): str(v) for k, v in get_redis().hgetall(keys.notification(notification_id)).items()}


def queued_records() -> list[NotificationRecord]:
    return [NotificationRecord.from_json(r) for r in get_redis().lrange(keys.notification_queue(), 0, -1)]


def queued_events() -> list[NotificationEvent]:
    return [NotificationEvent.from_json(e) for e in get_redis().lrange(keys.notification_events(), 0, -1)]


def routes_set(gateway: Any, *, active: bool, capture: Any) -> None:
    with capture(execute=True):
        (gateway_activate if active else gateway_deactivate)(gateway=gateway.model)
    routes_forget()


def failed_notification(
    client_creds: Any, console: Any, capture: Any, *, sensitive: bool = False, channel: str = "sms"
) -> Notification:
    """A notification that failed for want of a route, stored; its gateway active again."""
    to = TO if channel == "sms" else "Dev.Person@Example.com"
    notification_id = notification_enqueue(
        client_id=client_creds.id, channel=channel, to=to, body=BODY, sensitive=sensitive
    ).id
    routes_set(console, active=False, capture=capture)
    assert notifications_send_pending() == 1
    notification_events_flush()
    routes_set(console, active=True, capture=capture)
    notification = Notification.objects.get(pk=notification_id)
    assert (notification.status, notification.last_error) == ("failed", NO_ROUTE)
    return notification


def notification_row(**fields: Any) -> Notification:
    """A stored notification for the lists (no service writes rows directly)."""
    now = timezone.now()
    values: dict[str, Any] = {
        "client": ClientFactory.create(),
        "channel": "sms",
        "to": TO,
        "body": BODY,
        "status": "failed",
        "attempts": 5,
        "seq": 11,
        "created_at": now,
        "updated_at": now,
        **fields,
    }
    return Notification.objects.create(**values)


# --- notification_retry ----------------------------------------------------------------------
def test_a_failed_notification_is_queued_again_with_a_fresh_set_of_attempts(
    client_creds, console, django_capture_on_commit_callbacks
):
    failed = failed_notification(client_creds, console, django_capture_on_commit_callbacks)
    get_redis().delete(keys.notification_kick())

    assert notification_retry(notification=failed, actor=OPERATOR)

    state = live(str(failed.id))
    assert (state["status"], state["attempts"], state["last_error"]) == ("queued", "0", "")
    assert int(state["seq"]) == failed.seq + 1
    [record] = queued_records()
    assert (record.id, record.to, record.body, record.attempts) == (str(failed.id), TO, BODY, 0)
    assert time.time() - record.created_at < 5  # waiting since now: the lag is not days
    [event] = queued_events()
    assert (event.status, event.seq, event.attempts, event.last_error) == ("queued", failed.seq + 1, 0, "")
    action = OperatorAction.objects.get(action="notification.retry")
    assert (action.actor, action.object_id) == ("os:ops", str(failed.id))
    assert action.changes["status"] == {"old": "failed", "new": "queued"}


def test_the_retried_notification_is_sent_and_its_row_follows(
    client_creds, console, django_capture_on_commit_callbacks
):
    failed = failed_notification(client_creds, console, django_capture_on_commit_callbacks)

    notification_retry(notification=failed)
    notification_events_flush()
    assert Notification.objects.get(pk=failed.id).status == "queued"
    assert notifications_send_pending() == 1
    notification_events_flush()

    row = Notification.objects.get(pk=failed.id)
    assert (row.status, row.attempts, row.last_error, row.gateway_id) == ("sent", 1, "", console.id)
    assert OutboxMessage.objects.get(notification_id=failed.id).body == BODY
    assert not OperatorAction.objects.filter(action="notification.retry").exists()  # no actor, no record


def test_a_notification_is_retried_once_however_often_operators_ask(
    client_creds, console, django_capture_on_commit_callbacks
):
    failed = failed_notification(client_creds, console, django_capture_on_commit_callbacks)

    first = notification_retry(notification=failed, actor=OPERATOR)
    second = notification_retry(notification=failed, actor=OPERATOR)  # the row still says failed

    assert (first, second) == (True, False)
    assert len(queued_records()) == 1
    assert OperatorAction.objects.filter(action="notification.retry").count() == 1


def test_a_notification_whose_live_record_expired_gets_a_new_one(
    client_creds, console, django_capture_on_commit_callbacks
):
    failed = failed_notification(client_creds, console, django_capture_on_commit_callbacks)
    get_redis().delete(keys.notification(str(failed.id)))  # seven days later

    assert notification_retry(notification=failed)

    state = live(str(failed.id))
    assert (state["client_id"], state["channel"], state["status"]) == (client_creds.id, "sms", "queued")
    assert state["seq"] == str(failed.seq + 1)
    assert int(state["created_at"]) == int(failed.created_at.timestamp() * 1000)
    ttl = get_redis().ttl(keys.notification(str(failed.id)))
    assert keys.NOTIFICATION_TTL - 60 < ttl <= keys.NOTIFICATION_TTL


def test_a_one_time_code_cannot_be_re_sent(client_creds, console, django_capture_on_commit_callbacks):
    failed = failed_notification(client_creds, console, django_capture_on_commit_callbacks, sensitive=True)
    assert failed.body == "" and failed.body_redacted

    with pytest.raises(ApplicationError) as refused:
        notification_retry(notification=failed, actor=OPERATOR)

    assert refused.value.code == BODY_NOT_STORED
    assert "one-time code, which is never stored" in refused.value.detail
    assert live(str(failed.id))["status"] == "failed"
    assert queued_records() == [] and not OperatorAction.objects.exists()


def test_a_notification_that_did_not_fail_is_left_alone(client_creds, console):
    notification_id = notification_enqueue(client_id=client_creds.id, channel="sms", to=TO, body=BODY).id
    notification_events_flush()
    queued = Notification.objects.get(pk=notification_id)

    assert not notification_retry(notification=queued, actor=OPERATOR)
    assert len(queued_records()) == 1 and not OperatorAction.objects.exists()


# --- the notifications admin -------------------------------------------------------------------
def test_the_list_masks_destinations_and_names_client_and_gateway(admin_client, make_gateway):
    phone = make_gateway("android", send=SendConfig(url="http://phone.example:8080", username="sms"))
    sms = notification_row(gateway=phone.model, last_error=LONG_ERROR)
    email = notification_row(channel="email", to="dev.person@example.com", status="sent", gateway=None)

    response = admin_client.get(CHANGELIST)
    page = response.content.decode()

    assert {n.pk for n in response.context["cl"].result_list} == {sms.pk, email.pk}
    assert "+********3210" in page and TO not in page
    assert "d***@example.com" in page and "dev.person@example.com" not in page
    assert sms.client.name in page and "android gateway" in page
    assert LONG_ERROR not in page and LONG_ERROR[:40] in page  # shortened; the detail page has it all


def test_the_list_filters_by_status_and_channel_and_finds_ids_exactly(admin_client):
    failed = notification_row(provider_message_id="SM0123456789abcdef")
    sent = notification_row(channel="email", to="a@example.com", status="sent")

    def found(**query: str) -> set[uuid.UUID]:
        return {n.pk for n in admin_client.get(CHANGELIST, query).context["cl"].result_list}

    assert found(status__exact="failed") == {failed.pk}
    assert found(channel__exact="email") == {sent.pk}
    assert found(q=str(failed.id)) == {failed.pk}
    assert found(q="SM0123456789abcdef") == {failed.pk}
    assert found(q="SM01234") == set()  # exact ids only: no table scan for a substring
    assert found(q="not-a-uuid") == set()


def test_notifications_are_read_only(admin_client):
    notification = notification_row()
    detail = f"{CHANGELIST}{notification.pk}/change/"

    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    page = admin_client.get(detail).content.decode()
    assert BODY in page and 'name="_save"' not in page
    assert admin_client.post(detail, {"status": "sent"}).status_code == 403
    assert Notification.objects.get(pk=notification.pk).status == "failed"


def test_the_detail_page_says_a_one_time_code_was_not_stored(admin_client):
    notification = notification_row(body="", body_redacted=True)

    page = admin_client.get(f"{CHANGELIST}{notification.pk}/change/").content.decode()

    assert "not stored: it held a one-time code" in page


def test_retry_asks_first_and_changes_nothing_without_a_yes(
    admin_client, client_creds, console, django_capture_on_commit_callbacks
):
    failed = failed_notification(client_creds, console, django_capture_on_commit_callbacks)

    response = admin_client.post(CHANGELIST, {"action": "retry", "_selected_action": [str(failed.id)]})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Send these notifications again?" in page and "One-time codes cannot be re-sent" in page
    assert str(failed.id) in page and 'name="post" value="yes"' in page
    assert live(str(failed.id))["status"] == "failed"
    assert queued_records() == [] and not OperatorAction.objects.exists()


def test_confirmed_retry_queues_failed_ones_and_says_which_could_not_be_retried(
    admin_client, client_creds, console, django_capture_on_commit_callbacks
):
    failed = failed_notification(client_creds, console, django_capture_on_commit_callbacks)
    code = failed_notification(client_creds, console, django_capture_on_commit_callbacks, sensitive=True)
    sent = notification_row(status="sent")
    selected = [str(failed.id), str(code.id), str(sent.id)]

    response = admin_client.post(
        CHANGELIST, {"action": "retry", "_selected_action": selected, "post": "yes"}, follow=True
    )

    shown = messages_of(response)
    assert "Queued 1 notification(s) again; 1 not failed, left alone." in shown[0]
    assert "1 one-time code notification(s) cannot be re-sent" in shown[1]
    assert [r.id for r in queued_records()] == [str(failed.id)]
    assert OperatorAction.objects.get().actor == "admin"
    assert LogEntry.objects.get(object_id=str(failed.id)).change_message == (
        "Retried (queued again with a fresh set of attempts)."
    )


def test_the_notification_list_fits_a_1280_px_screen(admin_client, make_gateway):
    phone = make_gateway("android", send=SendConfig(url="http://phone.example:8080", username="sms"))
    Gateway.objects.filter(pk=phone.id).update(name="Warehouse Android phone gateway (second floor)")
    client = ClientFactory.create(name="Acme Corporation International Logistics")
    notification_row(client=client, gateway=phone.model, last_error=LONG_ERROR, status="delivered")
    notification_row(client=client, channel="email", to="very.long.address.for.tests@subdomain.acme.example")

    page = admin_client.get(CHANGELIST).content.decode()

    assert narrowest_width(page) <= room(filters=True)


# --- the console outbox --------------------------------------------------------------------
def test_the_console_outbox_shows_what_would_have_gone_out_newest_first(
    admin_client, client_creds, console, django_capture_on_commit_callbacks
):
    first = notification_enqueue(client_id=client_creds.id, channel="sms", to=TO, body="code 111111").id
    notifications_send_pending()
    second = notification_enqueue(
        client_id=client_creds.id,
        channel="email",
        to="dev@example.com",
        body="code 222222",
        subject="Sign in",
    ).id
    notifications_send_pending()

    response = admin_client.get(OUTBOX)
    page = response.content.decode()

    assert [str(m.notification_id) for m in response.context["cl"].result_list] == [second, first]
    assert "<h1>Console outbox</h1>" in page
    assert "code 111111" in page and "code 222222" in page and TO in page and "Sign in" in page
    assert admin_client.get(f"{OUTBOX}add/").status_code == 403


def test_the_console_outbox_fits_a_1280_px_screen(admin_client, console):
    OutboxMessage.objects.create(
        notification_id=uuid.uuid4(),
        gateway=console.model,
        channel="email",
        to="very.long.address.for.tests@subdomain.acme.example",
        subject="Your sign-in code for the Acme Corporation International customer portal",
        body="Your code is 123456. " + "It expires in ten minutes; never share it with anyone. " * 20,
    )

    page = admin_client.get(OUTBOX).content.decode()

    assert narrowest_width(page) <= room(filters=True)


# --- the gateway admin's sending settings ------------------------------------------------------
def change_post(gateway: Any, **fields: Any) -> dict[str, Any]:
    secrets = list(gateway.model.secrets.values_list("pk", flat=True))
    inline = {f"secrets-{i}-id": pk for i, pk in enumerate(secrets)}
    counts = {
        "TOTAL_FORMS": len(secrets),
        "INITIAL_FORMS": len(secrets),
        "MIN_NUM_FORMS": 0,
        "MAX_NUM_FORMS": 1000,
    }
    values = {
        "name": gateway.name,
        "countries": "",
        "receiving_number": "",
        "send_url": "",
        "send_username": "",
        "new_send_password": "",
        "send_from": "",
        "priority": 100,
        **fields,
    }
    return {**values, **inline, **{f"secrets-{k}": v for k, v in counts.items()}}


def test_the_sending_settings_change_through_the_service_and_the_password_is_write_only(
    admin_client, make_gateway
):
    gateway = make_gateway("android")
    url = f"{GATEWAYS}{gateway.id}/change/"
    sending = {"send_url": "http://phone.example:8080", "send_username": "sms", "priority": 5}

    first = admin_client.post(url, change_post(gateway, new_send_password="phone-pass-1", **sending))
    page = admin_client.get(url).content.decode()
    second = admin_client.post(url, change_post(gateway, send_from="+919876543210", **sending))

    assert (first.status_code, second.status_code) == (302, 302)
    stored = Gateway.objects.get(pk=gateway.id)
    assert (stored.send_url, stored.priority, stored.send_from) == (
        "http://phone.example:8080",
        5,
        "+919876543210",
    )
    assert stored.send_password == "phone-pass-1"  # the blank second post kept it
    assert 'class="fieldset-heading">Sending</h2>' in page and "phone-pass-1" not in page
    assert "stored (encrypted; not shown)" in page
    assert f"POST /notifications/receipts/android/{gateway.id}" in page
    first_change, second_change = OperatorAction.objects.filter(action="gateway.sending").order_by("id")
    assert first_change.changes["send_password"] == {"old": "…", "new": "(changed)"}
    assert "send_password" not in second_change.changes and "phone-pass-1" not in json.dumps(
        [first_change.changes, first_change.summary]
    )


def test_a_blank_priority_keeps_the_gateways_own(admin_client, make_gateway):
    gateway = make_gateway("console", send=SendConfig(priority=0))

    response = admin_client.post(f"{GATEWAYS}{gateway.id}/change/", change_post(gateway, priority=""))

    assert response.status_code == 302
    assert Gateway.objects.get(pk=gateway.id).priority == 0


def test_a_bad_sending_setting_is_refused_with_the_services_message(admin_client, make_gateway):
    gateway = make_gateway("android")

    response = admin_client.post(
        f"{GATEWAYS}{gateway.id}/change/", change_post(gateway, send_url="ftp://phone.example")
    )

    assert response.status_code == 200
    assert "is not http://host or https://host" in response.content.decode()
    assert Gateway.objects.get(pk=gateway.id).send_url == ""


def test_a_console_gateway_is_added_without_a_secret_and_listed_as_sending(
    admin_client, django_capture_on_commit_callbacks
):
    post = {"kind": "console", "name": "Dev outbox", "secret": "", "countries": "", "receiving_number": ""}
    sending = {"send_url": "", "send_username": "", "new_send_password": "", "send_from": "", "priority": 100}

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"{GATEWAYS}add/", {**post, **sending}, follow=True)

    assert any("Gateway Dev outbox: it only sends" in m for m in messages_of(response))
    gateway = Gateway.objects.get(name="Dev outbox")
    assert not gateway.secrets.exists() and gateway.sends
    page = admin_client.get(GATEWAYS).content.decode()
    assert "column-sends" in page


def test_an_android_gateway_added_with_sending_settings_stores_them_encrypted(
    admin_client, django_capture_on_commit_callbacks
):
    post = {"kind": "android", "name": "Phone 2", "secret": "", "countries": "91", "receiving_number": ""}
    sending = {
        "send_url": "https://phone.example",
        "send_username": "sms",
        "new_send_password": "phone-pass-2",
        "send_from": "",
        "priority": 7,
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"{GATEWAYS}add/", {**post, **sending}, follow=True)

    gateway = Gateway.objects.get(name="Phone 2")
    assert any(
        f"delivery receipts: POST /notifications/receipts/android/{gateway.id}" in m
        for m in messages_of(response)
    )
    assert gateway.send_password == "phone-pass-2" and gateway.priority == 7
    stored = stored_column(gateway.id, "send_password")
    assert stored != "phone-pass-2" and secret_decrypt(stored) == "phone-pass-2"  # encrypted at rest


def stored_column(gateway_id: uuid.UUID, column: str) -> str:
    """The column as the database holds it, past the field's decryption."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM inbound_gateway WHERE id = %s", [gateway_id.hex])  # noqa: S608
        [value] = cursor.fetchone()
    return str(value)


# --- the dashboard panel, /metrics and bridge_status --------------------------------------------
def counted(gateway_id: str, **outcomes: int) -> None:
    for outcome, count in outcomes.items():
        get_redis().hincrby(keys.metrics_notifications(), f"{gateway_id}:{outcome}", count)


def waiting(created_at: float) -> None:
    record = NotificationRecord(
        id=str(uuid.uuid4()), client_id="c", channel="sms", to=TO, body=BODY, created_at=created_at
    )
    get_redis().lpush(keys.notification_queue(), record.to_json())


def test_the_dashboard_panel_shows_the_queue_retries_lag_and_sends_per_gateway(admin_client, console):
    waiting(time.time() - 42)
    waiting(time.time())
    get_redis().zadd(keys.notification_retry(), {"{}": time.time() * 1000 + 60_000})
    counted(str(console.id), sent=7, rejected=1, failed=1, undelivered=1, delivered=5, error=1)

    response = admin_client.get("/admin/dashboard/")
    page = response.content.decode()

    [panel] = [p for p in response.context["dashboard"].panels if p.title == "Notifications"]
    stats = panel.context["stats"]
    assert (stats.queued, stats.retries_scheduled) == (2, 1)
    assert 41 < stats.lag_seconds < 60
    [outcomes] = stats.gateways
    # failed: refused for good, failed, or reported undelivered; a gateway error is not an end
    assert (outcomes.name, outcomes.sent, outcomes.failed, outcomes.delivered) == ("console gateway", 7, 3, 5)
    assert "<h2>Notifications</h2>" in page and 'id="dash-notification-gateways"' in page
    assert f"{CHANGELIST}?status__exact=failed&amp;gateway__id__exact={console.id}" in page


def test_metrics_count_sends_per_gateway_and_outcome_and_report_the_queue_lag(api, console):
    waiting(time.time() - 30)
    waiting(time.time())
    counted(str(console.id), sent=3, undelivered=1)

    text = api.get("/metrics").content.decode()

    assert f'smsbridge_notifications_total{{gateway="{console.id}",outcome="sent"}} 3.0' in text
    assert f'smsbridge_notifications_total{{gateway="{console.id}",outcome="undelivered"}} 1.0' in text
    [lag] = [
        line for line in text.splitlines() if line.startswith("smsbridge_notification_queue_lag_seconds ")
    ]
    assert 29 < float(lag.split()[1]) < 60


def test_the_lag_is_zero_when_nothing_waits(api):
    text = api.get("/metrics").content.decode()

    assert "smsbridge_notification_queue_lag_seconds 0.0" in text


def test_bridge_status_prints_the_notification_lines(console):
    waiting(time.time() - 5)
    counted(str(console.id), sent=4, rejected=1)
    counted("none", failed=2)  # no route covered them, or every attempt failed

    out, as_json = StringIO(), StringIO()
    call_command("bridge_status", stdout=out)
    call_command("bridge_status", "--json", stdout=as_json)

    lines = out.getvalue().splitlines()
    [queue] = [line for line in lines if line.startswith("notifications: ")]
    assert queue.startswith("notifications: 1 queued (waiting or in flight)  0 retries scheduled  lag ")
    assert (
        "notifications per gateway: console gateway: sent 4 failed 1  "
        "none (no route, or out of attempts): sent 0 failed 2"
    ) in lines
    report = json.loads(as_json.getvalue())["notifications"]
    assert (report["queued"], report["retries_scheduled"]) == (1, 0)
    assert {g["name"]: g["counts"] for g in report["gateways"]}["console gateway"] == {
        "sent": 4,
        "rejected": 1,
    }
