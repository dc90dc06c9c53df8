"""manage.py dead_letters: list, show, replay (exactly once, oldest first) and purge."""

import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.core import keys
from apps.core.redis import get_redis

pytestmark = pytest.mark.django_db

QUEUE = "monitor"


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("dead_letters", *args, stdout=out)
    return out.getvalue()


def _dead(*items: dict[str, Any]) -> str:
    """Dead-letter ``items`` (oldest first) of the monitor queue, as a drain does: LPUSH."""
    key = keys.sms_monitor_queue()
    for item in items:
        get_redis().lpush(keys.dead_letter(key), json.dumps(item))
    return key


def test_list_counts_every_queue_and_lists_one_newest_first():
    _dead({"event_id": "e1"}, {"event_id": "e2"})

    counts = json.loads(_run("list", "--json"))
    listing = _run("list", QUEUE)

    assert counts[QUEUE] == 2 and set(counts) >= {"inbound", "monitor", "blacklist", "out_sms"}
    assert listing.index("event_id=e2") < listing.index("event_id=e1")


def test_show_prints_one_item_in_full():
    _dead({"event_id": "e1", "status": "valid"})

    assert json.loads(_run("show", QUEUE, "0")) == {"event_id": "e1", "status": "valid"}
    with pytest.raises(CommandError, match="No dead letter at position 5"):
        _run("show", QUEUE, "5")


def test_replay_moves_every_item_back_onto_its_queue_once_oldest_first():
    key = _dead(*({"event_id": f"e{n}"} for n in range(1200)))  # more than one Lua chunk
    get_redis().lpush(key, json.dumps({"event_id": "waiting"}))

    output = _run("replay", QUEUE, "--yes")

    r = get_redis()
    queued = [json.loads(item)["event_id"] for item in reversed(r.lrange(key, 0, -1))]  # oldest first
    assert queued == ["waiting", *(f"e{n}" for n in range(1200))]
    assert r.llen(keys.dead_letter(key)) == 0
    assert "500/1200 moved back" in output and "1200 dead letters of monitor moved back" in output
    assert "No dead letters" in _run("replay", QUEUE, "--yes")  # a second replay moves nothing


def test_replay_with_a_limit_moves_only_the_oldest():
    key = _dead({"event_id": "old"}, {"event_id": "new"})

    _run("replay", QUEUE, "--limit", "1", "--yes")

    assert [json.loads(i)["event_id"] for i in get_redis().lrange(key, 0, -1)] == ["old"]
    assert [json.loads(i)["event_id"] for i in get_redis().lrange(keys.dead_letter(key), 0, -1)] == ["new"]


def test_replay_and_purge_ask_first_and_change_nothing_unless_confirmed(monkeypatch):
    key = _dead({"event_id": "e1"})
    questions: list[str] = []

    def answer(question: str) -> str:
        questions.append(question)
        return "n"  # the operator says no

    monkeypatch.setattr("builtins.input", answer)

    replay, purge = _run("replay", QUEUE), _run("purge", QUEUE)

    assert "Nothing changed." in replay and "Nothing changed." in purge
    assert len(questions) == 2 and "1 dead letters of monitor" in questions[1]
    assert get_redis().llen(keys.dead_letter(key)) == 1


def test_purge_deletes_the_items_counted_and_keeps_one_that_arrives_after(monkeypatch):
    key = _dead({"event_id": "e1"}, {"event_id": "e2"})

    def answer(question: str) -> str:
        _dead({"event_id": "late"})  # a drain dead-letters an item while the operator reads
        return "y"

    monkeypatch.setattr("builtins.input", answer)
    output = _run("purge", QUEUE)

    assert "2 dead letters of monitor deleted" in output
    assert [json.loads(i)["event_id"] for i in get_redis().lrange(keys.dead_letter(key), 0, -1)] == ["late"]


def test_an_unknown_queue_is_refused_with_the_known_names():
    with pytest.raises(CommandError, match="Unknown queue 'nope'; choose one of inbound"):
        _run("replay", "nope", "--yes")
