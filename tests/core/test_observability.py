import json
import logging
import time
from io import StringIO

import pytest
from django.core.management import call_command

from apps.core import keys
from apps.core.logging import JsonFormatter, MaskMobileFilter, mask_mobiles
from apps.core.redis import get_redis

pytestmark = pytest.mark.django_db


def scrape(api, **headers) -> str:
    response = api.get("/metrics", **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def test_metrics_count_requests_per_endpoint_with_latency(api, client_creds):
    api.get("/onboard/register/9876543210", **client_creds.auth)

    text = scrape(api)

    assert (
        'smsbridge_http_requests_total{endpoint="onboard/register/<str:mobile_number>",method="GET",status="200"}'
        in text
    )
    assert "smsbridge_http_request_duration_seconds_bucket" in text


def test_metrics_report_queues_verdicts_drains_callbacks_and_set_sizes(api):
    r = get_redis()
    r.lpush(keys.sms_monitor_queue(), json.dumps({"event_id": "e", "created_at": 1.0}))
    r.hincrby(keys.metrics_verdicts(), "invalid:header_hash", 3)
    r.hincrby(keys.metrics_drained(), "sms_monitor_queue", 5)
    r.hincrby(keys.metrics_callbacks(), "delivered", 2)
    r.sadd(keys.blacklist_mobiles(), "9876543210", "9876543211")

    text = scrape(api)

    assert 'smsbridge_queue_waiting{queue="monitor"} 1.0' in text
    assert 'smsbridge_queue_lag_seconds{queue="monitor"}' in text
    assert 'smsbridge_verdicts_total{check="header_hash",status="invalid"} 3.0' in text
    assert 'smsbridge_drained_total{queue="sms_monitor_queue"} 5.0' in text
    assert 'smsbridge_callbacks_total{outcome="delivered"} 2.0' in text
    assert "smsbridge_blacklist_size 2.0" in text


def test_the_pipeline_counts_verdicts_per_check(api, client_creds, make_gateway):
    from apps.onboarding.services.pipeline import sms_validate_pending
    from tests.helpers import send_native

    gateway = make_gateway("native")
    send_native(api, gateway.secret, "9876543210", "ONBOARD:" + "0" * 64)
    sms_validate_pending()

    assert get_redis().hgetall(keys.metrics_verdicts()) == {"invalid:header_hash": "1"}


def test_metrics_can_require_a_token(api, settings):
    settings.METRICS_TOKEN = "scrape-secret"

    assert api.get("/metrics").status_code == 401
    assert scrape(api, HTTP_AUTHORIZATION="Bearer scrape-secret")


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("sms from +919876543210 judged", "sms from +********3210 judged"),
        ("number 9876543210 verified", "number ******3210 verified"),
        ("at 1795303503.309567 uuid 0a1b2c3d", "at 1795303503.309567 uuid 0a1b2c3d"),
        ("id 123456 short", "id 123456 short"),
    ],
)
def test_mobile_numbers_are_masked_in_logs(text, masked):
    assert mask_mobiles(text) == masked


def test_log_records_come_out_as_one_masked_json_object_a_line():
    record = logging.LogRecord("apps.x", logging.INFO, __file__, 1, "verified %s", ("9876543210",), None)
    MaskMobileFilter().filter(record)

    line = JsonFormatter().format(record)

    entry = json.loads(line)
    assert entry["message"] == "verified ******3210"
    assert entry["level"] == "INFO"
    assert "\n" not in line


def test_metrics_report_each_celery_queue_and_the_dead_letters_of_each_queue(api, settings):
    # The broker role on the per-test data DB, so the session's workers never see these.
    settings.CELERY_BROKER_URL = settings.REDIS_URL
    r = get_redis()
    r.lpush("callbacks", "m1", "m2", "m3")
    r.lpush("callbacks\x06\x163", "m4")  # kombu keeps priority 3 apart
    r.lpush(keys.dead_letter(keys.blacklist_queue()), "{}")

    text = scrape(api)

    assert 'smsbridge_celery_queue_messages{queue="callbacks"} 4.0' in text
    assert 'smsbridge_celery_queue_messages{queue="celery"} 0.0' in text
    assert 'smsbridge_celery_queue_messages{queue="housekeeping"} 0.0' in text
    assert 'smsbridge_queue_dead_letters{queue="blacklist"} 1.0' in text
    assert 'smsbridge_queue_dead_letters{queue="monitor"} 0.0' in text


def test_bridge_status_shows_the_celery_queues_and_says_when_no_heartbeat_ran_yet(settings):
    settings.CELERY_BROKER_URL = settings.REDIS_URL  # as above: not the session's broker
    r = get_redis()
    r.lpush("housekeeping", "tick")
    r.set(keys.heartbeat_started(), time.time())
    r.lpush(keys.dead_letter(keys.sms_monitor_queue()), "{}")

    out, as_json = StringIO(), StringIO()
    call_command("bridge_status", stdout=out)
    call_command("bridge_status", "--json", stdout=as_json)

    text = out.getvalue()
    assert "background workers: starting (no heartbeat yet)" in text
    assert "celery queues (messages waiting): celery 0  callbacks 0  housekeeping 1" in text
    assert "/admin/dead-letters/" in text
    assert json.loads(as_json.getvalue())["celery_queues"] == {"celery": 0, "callbacks": 0, "housekeeping": 1}


def test_the_inbound_outbox_is_counted_on_metrics_and_in_bridge_status(api):
    from apps.inbound.models import InboundOutbox

    assert "smsbridge_inbound_outbox_rows 0.0" in scrape(api)
    for n in range(2):
        InboundOutbox.objects.create(
            gateway_id="g", message_id=f"m{n}", sms_uuid="6f1c3c55-0000-4000-8000-00000000000b", record="{}"
        )
    assert "smsbridge_inbound_outbox_rows 2.0" in scrape(api)
    out = StringIO()
    call_command("bridge_status", stdout=out)
    assert "inbound outbox: 2 SMS kept while Redis was away" in out.getvalue()
    out = StringIO()
    call_command("bridge_status", "--json", stdout=out)
    assert json.loads(out.getvalue())["inbound_outbox"] == 2


def test_the_outbox_gauge_is_reported_while_redis_is_away(api, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there (clients are per URL)
    text = scrape(api)
    assert "smsbridge_redis_up 0.0" in text
    assert "smsbridge_inbound_outbox_rows 0.0" in text
