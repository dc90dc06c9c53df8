"""The admin's live feed of events: newest first, filtered by type, client and number,
newer events on request (the page asks every few seconds), text never markup."""

from typing import Any

import pytest

from apps.core.history import history_append
from apps.core.redis import get_redis

pytestmark = pytest.mark.django_db

URL = "/admin/events/"


def append(kind: str, data: dict[str, Any], clients: list[str] = ()) -> str:  # type: ignore[assignment]
    with get_redis().pipeline(transaction=True) as pipe:
        history_append(pipe, kind, data, clients)
        feed_id = pipe.execute()[0]
    return feed_id


def shown_ids(response: Any) -> list[str]:
    return [e["id"] for e in response.context["events"]]


def test_the_feed_shows_every_clients_events_newest_first_with_names(admin_client, make_client):
    alice, bob = make_client("Alice"), make_client("Bob")
    first = append("registration.opened", {"mobile_number": "9876543210"}, [alice.id])
    second = append("otp.requested", {"mobile_number": "9876543211"}, [bob.id])
    third = append("blacklist.added", {"mobile_number": "9876543212", "source": "admin"})

    response = admin_client.get(URL)

    assert response.status_code == 200
    assert shown_ids(response) == [third, second, first]
    assert response.context["events"][1]["clients"] == ["Bob"]
    assert b"registration.opened" in response.content and b"Alice" in response.content


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"type": "otp.requested"}, ["otp"]),
        ({"type": "otp."}, ["otp", "otp-failed"]),
        ({"mobile": "+91 98765 43210"}, ["registration"]),
        ({"client": "bob"}, ["otp", "otp-failed"]),
        ({"type": "registration.opened", "client": "bob"}, []),
    ],
)
def test_filters_narrow_the_feed(admin_client, make_client, params, expected):
    alice, bob = make_client("Alice"), make_client("Bob")
    ids = {
        "registration": append("registration.opened", {"mobile_number": "9876543210"}, [alice.id]),
        "otp": append("otp.requested", {"mobile_number": "9876543211"}, [bob.id]),
        "otp-failed": append("otp.failed", {"mobile_number": "9876543211"}, [bob.id]),
    }
    if params.get("client") == "bob":
        params = {**params, "client": bob.id}

    response = admin_client.get(URL, params)

    assert shown_ids(response) == [ids[name] for name in reversed(expected)]


def test_polling_brings_only_newer_matching_events_and_moves_on_past_the_rest(admin_client, make_client):
    alice = make_client("Alice")
    page = admin_client.get(URL, {"type": "otp."})
    after = page.context["after"]
    skipped = append("registration.opened", {"mobile_number": "9876543210"}, [alice.id])
    wanted = append("otp.verified", {"mobile_number": "9876543210"}, [alice.id])

    polled = admin_client.get(URL, {"type": "otp.", "after": after, "format": "json"}).json()

    assert [e["id"] for e in polled["events"]] == [wanted]
    assert polled["events"][0]["clients"] == ["Alice"] and skipped != wanted
    assert polled["after"] == wanted
    again = admin_client.get(URL, {"type": "otp.", "after": polled["after"], "format": "json"}).json()
    assert again == {"events": [], "after": wanted}


def test_a_bad_poll_position_is_a_400(admin_client):
    answer = admin_client.get(URL, {"after": "<script>", "format": "json"})
    assert answer.status_code == 400 and answer.json()["code"] == "invalid"


def test_event_data_is_shown_as_text_not_markup(admin_client):
    append("blacklist.added", {"mobile_number": "9876543210", "reason": "<script>alert(1)</script>"})
    body = admin_client.get(URL).content
    assert b"<script>alert(1)" not in body and b"&lt;script&gt;alert(1)" in body
