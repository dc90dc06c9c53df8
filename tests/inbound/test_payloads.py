"""The inbound SMS on ``sms_inbound_queue``: one class writes and reads it, across versions."""

import json
from datetime import UTC, datetime

import orjson
import pytest

from apps.audit.payloads import MonitorEventRecord
from apps.core import keys
from apps.core.queues import queue_depth
from apps.core.redis import get_redis
from apps.inbound.payloads import InboundSmsRecord
from apps.onboarding.services.pipeline import sms_validate_pending
from tests.helpers import send_native

RECORD = InboundSmsRecord(
    uuid="0b7d3c3e-8f6a-4d8e-9a51-2f4e6c1d9b10",
    sender_number="+919876543210",
    sms_message="ONBOARD:" + "a" * 64,
    received_timestamp="2026-12-01T07:38:09+00:00",
    gateway_id="5a0c8e55-7d4b-4b8e-8f43-0d5b8f2c6e21",
    gateway_kind="native",
    message_id="m-1",
    queued_at=1796110689.25,
)


def v1_json(**fields: object) -> str:
    """An SMS as sms_enqueue wrote it before payloads carried a version (json.dumps, no v)."""
    event = {
        "uuid": RECORD.uuid,
        "gateway_id": RECORD.gateway_id,
        "gateway_kind": RECORD.gateway_kind,
        "message_id": RECORD.message_id,
        "sender_number": RECORD.sender_number,
        "sms_message": RECORD.sms_message,
        "received_timestamp": RECORD.received_timestamp,
        "queued_at": RECORD.queued_at,
        **fields,
    }
    return json.dumps(event)


def test_a_record_survives_the_round_trip():
    assert InboundSmsRecord.from_json(RECORD.to_json()) == RECORD


def test_the_json_carries_its_version():
    assert orjson.loads(RECORD.to_json())["v"] == InboundSmsRecord.VERSION == 2


def test_it_reads_the_previous_version_without_v():
    assert InboundSmsRecord.from_json(v1_json()) == RECORD


def test_an_old_worker_finds_every_field_it_read_by_name():
    written = orjson.loads(RECORD.to_json())

    assert {k: v for k, v in written.items() if k != "v"} == json.loads(v1_json())


def test_fields_of_a_newer_writer_are_ignored():
    newer = orjson.loads(RECORD.to_json()) | {"v": 3, "carrier": "unknown to this version"}

    assert InboundSmsRecord.from_json(orjson.dumps(newer)) == RECORD


def test_a_non_object_is_refused():
    with pytest.raises(ValueError):
        InboundSmsRecord.from_json("[1, 2]")


@pytest.mark.django_db
def test_what_the_receive_endpoint_queues_the_pipeline_reads(api, make_gateway):
    gateway = make_gateway("native")
    uuid = send_native(api, gateway.secret, "9876543210", "hello", message_id="m-7").json()["uuid"]

    [raw] = get_redis().lrange(keys.sms_inbound_queue(), 0, -1)
    queued = InboundSmsRecord.from_json(raw)
    assert (queued.uuid, queued.gateway_id, queued.gateway_kind, queued.message_id) == (
        uuid,
        str(gateway.id),
        "native",
        "m-7",
    )

    assert sms_validate_pending() == 1
    [event] = [MonitorEventRecord.from_json(e) for e in get_redis().lrange(keys.sms_monitor_queue(), 0, -1)]
    assert (event.sms_uuid, event.gateway_id, event.reason) == (uuid, str(gateway.id), "header_hash")
    assert event.queued_at == queued.queued_at


@pytest.mark.django_db
def test_the_pipeline_judges_an_sms_an_old_web_process_queued():
    received = datetime.now(UTC).isoformat()
    get_redis().lpush(keys.sms_inbound_queue(), v1_json(received_timestamp=received, sms_message="hello"))

    assert sms_validate_pending() == 1

    assert queue_depth(keys.sms_inbound_queue()) == 0
    assert get_redis().llen(keys.dead_letter(keys.sms_inbound_queue())) == 0
    [event] = [MonitorEventRecord.from_json(e) for e in get_redis().lrange(keys.sms_monitor_queue(), 0, -1)]
    assert (event.sms_uuid, event.gateway_id, event.status) == (RECORD.uuid, RECORD.gateway_id, "invalid")
