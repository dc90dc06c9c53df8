"""The inbound outbox: SMS delivered while Redis cannot take them are kept in PostgreSQL,
acknowledged as usual, and queued exactly once, oldest first, when Redis is back."""

import json

import pytest
from django.db import connection

from apps.core import keys
from apps.core.redis import get_redis
from apps.inbound.models import InboundOutbox
from apps.inbound.outbox import sms_outbox_flush
from apps.inbound.payloads import InboundSmsRecord
from tests.helpers import send_android, send_jasmin, send_native, send_twilio
from tests.processes import free_port

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://127.0.0.1:1/0"


def _queued() -> list[InboundSmsRecord]:
    """The inbound queue, oldest first (producers LPUSH)."""
    raw = get_redis().lrange(keys.sms_inbound_queue(), 0, -1)
    return [InboundSmsRecord.from_json(item) for item in reversed(raw)]


def test_each_gateway_kind_is_acknowledged_as_usual_while_redis_is_down(make_gateway, api, settings):
    gateways = {kind: make_gateway(kind) for kind in ("native", "android", "twilio", "jasmin")}
    settings.REDIS_URL = DEAD_REDIS

    native = send_native(api, gateways["native"].secret, "9876543210", "ONBOARD:a", message_id="n-1")
    android = send_android(api, gateways["android"], "+919876543211", "ONBOARD:b", event_id="a-1")
    twilio = send_twilio(api, gateways["twilio"], "+919876543212", "ONBOARD:c", sid="SM" + "c" * 32)
    jasmin = send_jasmin(api, gateways["jasmin"], "919876543213", "ONBOARD:d", message_id="j-1")

    assert native.status_code == 202 and native.json()["status"] == "queued"
    assert android.status_code == 202
    assert twilio.status_code == 200 and b"<Response/>" in twilio.content
    assert jasmin.status_code == 200 and jasmin.content == b"ACK/Jasmin"
    rows = list(InboundOutbox.objects.order_by("id"))
    assert [row.gateway_id for row in rows] == [str(g.id) for g in gateways.values()]
    assert str(rows[0].sms_uuid) == native.json()["uuid"]


def test_a_repeat_during_the_outage_gets_the_first_uuid_and_keeps_one_row(make_gateway, api, settings):
    gateway = make_gateway("native")
    settings.REDIS_URL = DEAD_REDIS

    first = send_native(api, gateway.secret, "9876543210", "hello", message_id="m-1")
    again = send_native(api, gateway.secret, "9876543210", "hello", message_id="m-1")

    assert again.status_code == 202
    assert again.json() == {**first.json(), "duplicate": True}
    assert InboundOutbox.objects.count() == 1


def test_the_flush_queues_the_rows_oldest_first_once_and_deletes_them(make_gateway, api, settings):
    gateway = make_gateway("native")
    live = settings.REDIS_URL
    settings.REDIS_URL = DEAD_REDIS
    uuids = [
        send_native(api, gateway.secret, "9876543210", f"sms {n}", message_id=f"m-{n}").json()["uuid"]
        for n in range(5)
    ]
    settings.REDIS_URL = live

    assert sms_outbox_flush() == 5
    assert sms_outbox_flush() == 0

    assert [record.uuid for record in _queued()] == uuids
    assert [record.sms_message for record in _queued()] == [f"sms {n}" for n in range(5)]
    assert not InboundOutbox.objects.exists()


def test_an_sms_the_redis_queue_already_has_is_dropped_by_the_flush(make_gateway, api, settings):
    gateway = make_gateway("native")
    live = send_native(api, gateway.secret, "9876543210", "hello", message_id="m-1").json()
    settings.REDIS_URL, url = DEAD_REDIS, settings.REDIS_URL
    # The gateway did not hear the first answer and delivers again during the outage.
    kept = send_native(api, gateway.secret, "9876543210", "hello", message_id="m-1").json()
    settings.REDIS_URL = url

    assert kept["uuid"] != live["uuid"]
    assert sms_outbox_flush() == 0
    assert [record.uuid for record in _queued()] == [live["uuid"]]
    assert not InboundOutbox.objects.exists()


def test_a_row_replayed_after_a_crash_between_queueing_and_deleting_is_queued_once(
    make_gateway, api, settings
):
    gateway = make_gateway("native")
    settings.REDIS_URL, url = DEAD_REDIS, settings.REDIS_URL
    send_native(api, gateway.secret, "9876543210", "hello", message_id="m-1")
    settings.REDIS_URL = url
    row = InboundOutbox.objects.get()
    sms_outbox_flush()
    InboundOutbox.objects.create(  # the row as a worker killed before its DELETE left it
        gateway_id=row.gateway_id, message_id=row.message_id, sms_uuid=row.sms_uuid, record=row.record
    )

    assert sms_outbox_flush() == 0
    assert len(_queued()) == 1
    assert json.loads(row.record)["message_id"] == "m-1"


def test_client_endpoints_keep_answering_503_while_redis_is_down(client_creds, api, warm_hot_path, settings):
    api.get("/onboard/register/9876543210", **client_creds.auth)
    settings.REDIS_URL = DEAD_REDIS

    for path in ("/onboard/register/9876543210", "/onboard/status/9876543210"):
        response = api.get(path, **client_creds.auth)
        assert response.status_code == 503, path
        assert response.json()["code"] == "service_unavailable"
    assert not InboundOutbox.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_with_redis_and_postgresql_both_down_the_gateway_gets_503_and_retries(make_gateway, api, settings):
    gateway = make_gateway("native")
    settings.REDIS_URL = DEAD_REDIS
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(free_port())  # nothing listens there: refused
    try:
        response = send_native(api, gateway.secret, "9876543210", "hello", message_id="m-1")
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port

    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert not InboundOutbox.objects.exists()
