"""GET /events and GET /events/stream in-process: a client reads only its own history,
oldest first, page by page or as Server-Sent Events, with no SQL; bad input is a 400."""

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings

from apps.clients.models import Client
from apps.clients.services import api_key_directory, client_deactivate
from apps.core import keys
from apps.core.history import history_append
from apps.core.redis import get_redis as _get_redis

pytestmark = pytest.mark.django_db


def get_redis() -> Any:
    """The data Redis, untyped: redis-py's stubs type every reply as a union."""
    return _get_redis()


def append(client_id: str, count: int, kind: str = "registration.opened", start: int = 0) -> list[str]:
    """Append ``count`` events for ``client_id`` (as the scripts do) and return their ids."""
    with get_redis().pipeline(transaction=True) as pipe:
        for i in range(start, start + count):
            history_append(pipe, kind, {"n": i, "mobile_number": "9876543210"}, [client_id])
        pipe.execute()
    return [entry_id for entry_id, _ in get_redis().xrange(keys.event_history(client_id))][-count:]


def events(api: Any, creds: Any, **params: Any) -> Any:
    return api.get("/events", params, **creds.auth)


def test_pages_come_oldest_first_and_after_resumes_without_a_gap_or_a_repeat(api, client_creds):
    ids = append(client_creds.id, 25)

    first = events(api, client_creds, limit=10).json()
    assert [e["id"] for e in first["events"]] == ids[:10]
    assert first["has_more"] and first["next_after"] == ids[9] and not first["truncated"]
    second = events(api, client_creds, after=first["next_after"], limit=10).json()
    third = events(api, client_creds, after=second["next_after"], limit=10).json()
    assert [e["id"] for e in second["events"] + third["events"]] == ids[10:]
    assert not third["has_more"]
    # Nothing new: an empty page that keeps the place.
    assert events(api, client_creds, after=third["next_after"]).json() == {
        "events": [],
        "next_after": ids[-1],
        "has_more": False,
        "truncated": False,
    }


def test_an_event_is_shown_with_its_type_time_and_data(api, client_creds):
    (event_id,) = append(client_creds.id, 1)
    (shown,) = events(api, client_creds).json()["events"]
    assert shown["id"] == event_id and shown["type"] == "registration.opened"
    assert shown["data"] == {"n": 0, "mobile_number": "9876543210"}
    assert shown["occurred_at"].endswith("Z") and "client_ids" not in shown


def test_a_client_never_reads_another_clients_events(api, make_client):
    alice, bob = make_client("Alice"), make_client("Bob")
    append(alice.id, 3)

    assert events(api, bob).json()["events"] == []
    assert events(api, bob, after="0").json()["events"] == []
    # No parameter names a client: an unknown one is refused, not ignored.
    refused = events(api, bob, client_id=alice.id)
    assert refused.status_code == 400 and refused.json()["code"] == "invalid"
    assert len(events(api, alice).json()["events"]) == 3


def test_reading_the_history_makes_no_sql(api, client_creds, warm_hot_path, django_assert_num_queries):
    append(client_creds.id, 3)
    warm_hot_path()
    with django_assert_num_queries(0):
        assert len(events(api, client_creds).json()["events"]) == 3


@pytest.mark.parametrize(
    "params",
    [
        {"after": "yesterday"},
        {"after": "1-2-3"},
        {"after": "-1"},
        {"after": "1" * 41},
        {"limit": 0},
        {"limit": 1001},
        {"limit": "ten"},
    ],
)
def test_bad_parameters_are_a_400_in_the_error_shape(api, client_creds, params):
    answer = events(api, client_creds, **params)
    assert answer.status_code == 400
    assert set(answer.json()) >= {"detail", "code"}


def test_no_key_a_wrong_key_or_a_revoked_client_is_a_401(
    api, client_creds, django_capture_on_commit_callbacks
):
    assert api.get("/events").status_code == 401
    assert api.get("/events", HTTP_AUTHORIZATION="Bearer sbk_wrong").status_code == 401
    with django_capture_on_commit_callbacks(execute=True):
        client_deactivate(client=Client.objects.get(id=client_creds.id))
    assert events(api, client_creds).status_code == 401
    assert api.get("/events/stream", **client_creds.auth).status_code == 401


def test_a_reader_that_fell_behind_the_trimming_is_told(api, client_creds, settings):
    settings.EVENT_HISTORY_LENGTH = 10
    (oldest,) = append(client_creds.id, 1)
    ids = append(client_creds.id, 500, start=1)
    length = get_redis().xlen(keys.event_history(client_creds.id))
    assert length <= 10 + 100  # trimmed (approximately: whole blocks of about 100)
    behind = events(api, client_creds, after=oldest).json()
    assert behind["truncated"]
    kept = events(api, client_creds, after=ids[-20], limit=1000).json()
    assert not kept["truncated"] and [e["id"] for e in kept["events"]] == ids[-19:]


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_redis_away_is_a_503_with_retry_after(api, client_creds):
    answer = events(api, client_creds)
    assert answer.status_code == 503 and answer.json()["code"] == "service_unavailable"
    assert "Retry-After" in answer


# --- Server-Sent Events ------------------------------------------------------------------
def frames(response: Any) -> Iterator[dict[str, str]]:
    """The SSE messages of a streaming response, as {field: value} (comments and the
    retry advice skipped)."""
    buffer = b""
    for chunk in response.streaming_content:
        buffer += chunk
        while b"\n\n" in buffer:
            raw, buffer = buffer.split(b"\n\n", 1)
            fields = dict(
                line.split(": ", 1) for line in raw.decode().splitlines() if line and not line.startswith(":")
            )
            if "data" in fields:
                yield fields


def follow(api: Any, creds: Any, **headers: Any) -> Any:
    return api.get("/events/stream", HTTP_ACCEPT="text/event-stream", **creds.auth, **headers)


@pytest.fixture
def short_streams(settings: Any) -> None:
    settings.EVENT_STREAM_MAX_SECONDS = 1.0
    settings.EVENT_STREAM_KEEPALIVE_SECONDS = 0.2


def test_a_stream_resumes_after_last_event_id_in_order(api, client_creds, short_streams):
    ids = append(client_creds.id, 5)

    response = follow(api, client_creds, HTTP_LAST_EVENT_ID=ids[1])
    assert response["Content-Type"] == "text/event-stream" and response["Cache-Control"] == "no-cache"
    try:
        got = [f for f in frames(response) if "id" in f]
    finally:
        response.close()
    assert [f["id"] for f in got] == ids[2:]
    assert {f["event"] for f in got} == {"registration.opened"}


def test_a_stream_without_a_resume_point_brings_only_new_events(api, client_creds, short_streams):
    append(client_creds.id, 3)
    response = follow(api, client_creds)
    try:
        # Appended once the stream has its place (it opens with the retry message).
        body = iter(response.streaming_content)
        assert next(body).startswith(b"retry:")
        new = append(client_creds.id, 2, start=3)
        rest = b"".join(body)
    finally:
        response.close()
    assert [line.split(b": ")[1].decode() for line in rest.splitlines() if line.startswith(b"id:")] == new


def test_a_stream_says_when_events_were_trimmed_before_it_resumed(api, client_creds, settings, short_streams):
    settings.EVENT_HISTORY_LENGTH = 10
    (oldest,) = append(client_creds.id, 1)
    append(client_creds.id, 500, start=1)
    response = follow(api, client_creds, HTTP_LAST_EVENT_ID=oldest)
    try:
        first = next(frames(response))
    finally:
        response.close()
    assert first["event"] == "history.truncated" and "id" not in first


def test_a_stream_never_carries_another_clients_events(api, make_client, short_streams):
    alice, bob = make_client("Alice"), make_client("Bob")
    append(alice.id, 3)
    response = follow(api, bob, HTTP_LAST_EVENT_ID="0")
    try:
        assert [f for f in frames(response) if "id" in f] == []
    finally:
        response.close()


def test_a_bad_last_event_id_is_a_400_in_json(api, client_creds):
    answer = follow(api, client_creds, HTTP_LAST_EVENT_ID="not-an-id")
    assert answer.status_code == 400
    assert answer["Content-Type"].startswith("application/json") and answer.json()["code"] == "invalid"


def test_streams_past_the_per_process_bound_are_a_503_and_a_closed_one_frees_its_place(
    api, client_creds, short_streams
):
    # EVENT_STREAM_MAX_CONNECTIONS is 2: two streams are open, a third is refused.
    open_streams = [follow(api, client_creds), follow(api, client_creds)]
    try:
        refused = follow(api, client_creds)
        assert refused.status_code == 503 and refused.json()["code"] == "stream_limit"
        assert "Retry-After" in refused
        open_streams.pop().close()  # closed before any byte was read: its place is back
        again = follow(api, client_creds)
        assert again.status_code == 200
        open_streams.append(again)
    finally:
        for response in open_streams:
            response.close()


def test_following_makes_no_sql(api, client_creds, warm_hot_path, short_streams, django_assert_num_queries):
    ids = append(client_creds.id, 3)
    warm_hot_path()
    with django_assert_num_queries(0):
        response = follow(api, client_creds, HTTP_LAST_EVENT_ID="0")
        try:
            assert [f["id"] for f in frames(response)] == ids
        finally:
            response.close()


def test_a_key_revoked_while_its_stream_is_open_stops_the_stream(
    api, client_creds, settings, django_capture_on_commit_callbacks
):
    settings.EVENT_STREAM_MAX_SECONDS = 30.0
    settings.EVENT_STREAM_KEEPALIVE_SECONDS = 0.2
    response = follow(api, client_creds)
    body = iter(response.streaming_content)
    try:
        assert next(body).startswith(b"retry:")
        before = append(client_creds.id, 1)
        assert next(body).startswith(f"id: {before[0]}".encode())
        with django_capture_on_commit_callbacks(execute=True):
            client_deactivate(client=Client.objects.get(id=client_creds.id))
        api_key_directory.forget_local()  # as after CREDENTIAL_LOCAL_CACHE_SECONDS
        append(client_creds.id, 2, start=1)
        started = time.monotonic()
        rest = b"".join(body)  # ends at once, not after EVENT_STREAM_MAX_SECONDS
    finally:
        response.close()
    assert time.monotonic() - started < 10
    assert b"id:" not in rest
