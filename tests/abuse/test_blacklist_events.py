"""Blacklist changes reach the operators' event feed in the script that makes them, once
per real change, and never a client's own history."""

from typing import Any

import orjson
import pytest

from apps.abuse.services import blacklist_add, blacklist_add_many, blacklist_remove
from apps.core import keys
from apps.core.phone import mobile_parse
from apps.core.redis import get_redis as _get_redis

pytestmark = pytest.mark.django_db


def get_redis() -> Any:
    """The data Redis, untyped: redis-py's stubs type every reply as a union."""
    return _get_redis()


def feed() -> list[tuple[str, dict]]:
    return [(f["t"], orjson.loads(f["d"])) for _, f in get_redis().xrange(keys.event_feed())]


def test_an_add_and_a_remove_each_append_one_event_to_the_feed_only():
    mobile = mobile_parse("9876543210")
    assert blacklist_add(mobile=mobile, source="admin", reason="spam")
    assert not blacklist_add(mobile=mobile, source="admin")  # listed already: nothing happened
    assert blacklist_remove(mobile=mobile, source="admin", reason="appeal")
    assert not blacklist_remove(mobile=mobile, source="admin")  # not listed: nothing happened

    assert feed() == [
        (
            "blacklist.added",
            {"mobile_number": "9876543210", "source": "admin", "reason": "spam", "expires_at": None},
        ),
        (
            "blacklist.removed",
            {"mobile_number": "9876543210", "source": "admin", "reason": "appeal", "expires_at": None},
        ),
    ]
    assert not get_redis().keys(keys.event_history("*"))
    # PostgreSQL still hears every action, the no-op remove included (it may have lost the number).
    assert get_redis().llen(keys.blacklist_queue()) == 3


def test_a_bulk_add_appends_one_event_per_number_newly_listed():
    blacklist_add(mobile=mobile_parse("9876500007"), source="admin")
    numbers = [(f"98765{i:05d}", "91") for i in range(1200)]  # more than one Lua call's chunk
    added = blacklist_add_many(mobiles=numbers, source="abuse_sweep", reason="threshold")

    assert added == 1199
    events = feed()
    assert len(events) == 1200
    assert {data["mobile_number"] for kind, data in events if data["source"] == "abuse_sweep"} == {
        n for n, _ in numbers
    } - {"9876500007"}
