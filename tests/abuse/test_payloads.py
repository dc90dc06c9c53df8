"""The blacklist action on ``blacklist_queue``: one class writes and reads it, across versions."""

import json
from datetime import UTC, datetime

import orjson
import pytest

from apps.abuse.models import BlacklistAction, BlacklistEntry
from apps.abuse.payloads import BlacklistActionRecord
from apps.abuse.services import blacklist_add, blacklist_flush, blacklist_remove
from apps.core import keys
from apps.core.phone import mobile_parse
from apps.core.redis import get_redis

RECORD = BlacklistActionRecord(
    event_id="3f1c2b0a9d8e4f7a6b5c4d3e2f1a0b9c",
    action="add",
    mobile="9876543210",
    country_code="91",
    source="abuse_sweep",
    reason="50+ SMS in 24 h",
    actor="",
    created_at=1796110689.5,
    expires_at=1796715489.5,
)


def v1_json(**fields: object) -> str:
    """An action as ``_action`` wrote it before payloads carried a version (json.dumps, no v)."""
    action = {
        "event_id": RECORD.event_id,
        "action": RECORD.action,
        "mobile": RECORD.mobile,
        "country_code": RECORD.country_code,
        "source": RECORD.source,
        "reason": RECORD.reason,
        "actor": RECORD.actor,
        "created_at": RECORD.created_at,
        "expires_at": RECORD.expires_at,
        **fields,
    }
    return json.dumps(action)


def test_a_record_survives_the_round_trip():
    assert BlacklistActionRecord.from_json(RECORD.to_json()) == RECORD


def test_the_json_carries_its_version():
    assert orjson.loads(RECORD.to_json())["v"] == BlacklistActionRecord.VERSION == 2


def test_it_reads_the_previous_version_without_v():
    assert BlacklistActionRecord.from_json(v1_json()) == RECORD


def test_an_action_queued_before_expiry_existed_reads_as_permanent():
    before_expiry = {k: v for k, v in json.loads(v1_json()).items() if k != "expires_at"}

    assert BlacklistActionRecord.from_json(json.dumps(before_expiry)).expires_at is None


def test_an_old_worker_finds_every_field_it_read_by_name():
    written = orjson.loads(RECORD.to_json())

    assert {k: v for k, v in written.items() if k != "v"} == json.loads(v1_json())


def test_fields_of_a_newer_writer_are_ignored():
    newer = orjson.loads(RECORD.to_json()) | {"v": 3, "ticket": "OPS-1"}

    assert BlacklistActionRecord.from_json(orjson.dumps(newer)) == RECORD


@pytest.mark.django_db
def test_what_the_blacklist_services_queue_the_drain_applies():
    blacklist_add(mobile=mobile_parse("9876543210"), source="admin", reason="fraud", actor="ops")
    blacklist_add(mobile=mobile_parse("9876543211"), source="admin")
    blacklist_remove(mobile=mobile_parse("9876543211"), source="admin")
    queued = [BlacklistActionRecord.from_json(a) for a in get_redis().lrange(keys.blacklist_queue(), 0, -1)]
    assert [(a.action, a.mobile) for a in reversed(queued)] == [
        ("add", "9876543210"),
        ("add", "9876543211"),
        ("remove", "9876543211"),
    ]

    assert blacklist_flush() == 3

    assert set(BlacklistAction.objects.values_list("event_id", flat=True)) == {a.event_id for a in queued}
    assert list(BlacklistEntry.objects.values_list("mobile", "reason", "actor", "expires_at")) == [
        ("9876543210", "fraud", "ops", None)
    ]


@pytest.mark.django_db
def test_the_drain_applies_an_action_an_old_process_queued():
    get_redis().lpush(keys.blacklist_queue(), v1_json())

    assert blacklist_flush() == 1

    entry = BlacklistEntry.objects.get()
    assert (entry.mobile, entry.source, entry.country_code) == ("9876543210", "abuse_sweep", "91")
    assert entry.expires_at == datetime.fromtimestamp(RECORD.expires_at or 0, tz=UTC)
    assert BlacklistAction.objects.get().event_id == RECORD.event_id
    assert get_redis().llen(keys.dead_letter(keys.blacklist_queue())) == 0
