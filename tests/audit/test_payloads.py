"""The monitor event on ``sms_monitor_queue``: one class writes and reads it, across versions."""

import json

import orjson
import pytest

from apps.audit.events import monitor_event
from apps.audit.models import MonitorEvent
from apps.audit.payloads import MonitorEventRecord
from apps.audit.services import monitor_flush
from apps.core import keys
from apps.core.redis import get_redis

RECORD = MonitorEventRecord(
    event_id="3f1c2b0a9d8e4f7a6b5c4d3e2f1a0b9c",
    created_at=1796110689.5,
    status="invalid",
    mobile="9876543210",
    country_code="91",
    sms_uuid="0b7d3c3e-8f6a-4d8e-9a51-2f4e6c1d9b10",
    reason="header_hash",
    check_results={"mobile": 1, "header_hash": 2},
    gateway_id="5a0c8e55-7d4b-4b8e-8f43-0d5b8f2c6e21",
    client_ids=("c1", "c2"),
    registration_id="",
    queued_at=1796110689.25,
)
# A registration's event as monitor_event wrote it before payloads carried a version:
# compact JSON, no v, and only the extra fields its caller passed.
V1_REGISTRATION = (
    '{"event_id":"9c0b1a2f3e4d5c6b7a8f9e0d1c2b3a4f","created_at":1796110600.0,'
    '"status":"onboard_requested","mobile":"9876543210","country_code":"91","sms_uuid":"",'
    '"reason":"","check_results":{},"client_ids":["c1"],'
    '"registration_id":"7e57a1d2-0c4b-4f8e-9d3a-1b2c3d4e5f60"}'
)


def test_a_record_survives_the_round_trip():
    assert MonitorEventRecord.from_json(RECORD.to_json()) == RECORD


def test_the_json_carries_its_version():
    assert orjson.loads(RECORD.to_json())["v"] == MonitorEventRecord.VERSION == 2


def test_it_reads_the_previous_version_with_only_the_fields_it_had():
    event = MonitorEventRecord.from_json(V1_REGISTRATION)

    assert event == MonitorEventRecord(
        event_id="9c0b1a2f3e4d5c6b7a8f9e0d1c2b3a4f",
        created_at=1796110600.0,
        status="onboard_requested",
        mobile="9876543210",
        country_code="91",
        client_ids=("c1",),
        registration_id="7e57a1d2-0c4b-4f8e-9d3a-1b2c3d4e5f60",
    )


def test_an_old_worker_finds_every_field_it_read_by_name():
    written = orjson.loads(monitor_event(status="valid", mobile="9876543210", client_ids=["c1"]))

    assert set(json.loads(V1_REGISTRATION)) <= set(written)
    assert written["client_ids"] == ["c1"] and written["check_results"] == {}


def test_fields_of_a_newer_writer_are_ignored():
    newer = orjson.loads(RECORD.to_json()) | {"v": 3, "latency_ms": 12}

    assert MonitorEventRecord.from_json(orjson.dumps(newer)) == RECORD


@pytest.mark.django_db
def test_what_monitor_event_queues_the_drain_stores():
    raw = monitor_event(
        status="invalid",
        mobile="9876543210",
        country_code="91",
        sms_uuid=RECORD.sms_uuid,
        reason="header_hash",
        check_results={"mobile": 1, "header_hash": 2},
        gateway_id=RECORD.gateway_id,
        client_ids=["c1"],
        queued_at=1.5,
    )
    get_redis().lpush(keys.sms_monitor_queue(), raw)

    assert monitor_flush() == 1

    stored = MonitorEvent.objects.get()
    assert stored.event_id == MonitorEventRecord.from_json(raw).event_id
    assert (stored.status, stored.reason, stored.mobile, stored.country_code) == (
        "invalid",
        "header_hash",
        "9876543210",
        "91",
    )
    assert (stored.sms_uuid, stored.gateway_id, stored.client_ids) == (
        RECORD.sms_uuid,
        RECORD.gateway_id,
        ["c1"],
    )
    assert stored.check_results == {"mobile": 1, "header_hash": 2}


@pytest.mark.django_db
def test_the_drain_stores_an_event_an_old_process_queued():
    get_redis().lpush(keys.sms_monitor_queue(), V1_REGISTRATION)

    assert monitor_flush() == 1

    stored = MonitorEvent.objects.get()
    assert (stored.event_id, stored.status, stored.client_ids, stored.gateway_id) == (
        "9c0b1a2f3e4d5c6b7a8f9e0d1c2b3a4f",
        "onboard_requested",
        ["c1"],
        "",
    )
    assert get_redis().llen(keys.dead_letter(keys.sms_monitor_queue())) == 0
