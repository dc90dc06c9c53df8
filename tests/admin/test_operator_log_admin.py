"""The Operator log page: who changed what, read-only, filterable, searchable."""

from typing import Any

import pytest
from django.utils import timezone

from apps.core.models import OperatorAction
from apps.core.operator_log import Actor, operator_action_record

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/core/operatoraction/"


def record(action: str, actor: str, source: str = "admin", **fields: Any) -> OperatorAction:
    return operator_action_record(actor=Actor(name=actor, source=source), action=action, **fields)


def listed(response) -> list[str]:
    return [f"{r.action} {r.actor}" for r in response.context["cl"].result_list]


def test_the_page_lists_the_actions_newest_first(admin_client):
    record("client.deactivate", "alice", object_type="client", object_label="Acme", summary="2 keys refused")
    record("blacklist.add", "os:deploy", "command", object_type="number", object_label="9876543210")

    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    assert listed(response) == ["blacklist.add os:deploy", "client.deactivate alice"]
    page = response.content.decode()
    assert "Acme" in page and "2 keys refused" in page and "9876543210" in page
    assert "Operator log" in page


def test_it_filters_by_action_source_and_actor_and_searches(admin_client):
    record("client.deactivate", "alice", object_label="Acme")
    record("client.activate", "bob", object_label="Acme")
    record("blacklist.add", "os:deploy", "command", object_label="9876543210")

    assert listed(admin_client.get(CHANGELIST, {"action": "client.activate"})) == ["client.activate bob"]
    assert listed(admin_client.get(CHANGELIST, {"source__exact": "command"})) == ["blacklist.add os:deploy"]
    assert listed(admin_client.get(CHANGELIST, {"actor": "alice"})) == ["client.deactivate alice"]
    assert listed(admin_client.get(CHANGELIST, {"q": "9876543210"})) == ["blacklist.add os:deploy"]
    today = timezone.localdate()
    by_day = admin_client.get(
        CHANGELIST, {"at__year": today.year, "at__month": today.month, "at__day": today.day}
    )
    assert len(listed(by_day)) == 3


def test_the_detail_shows_old_and_new_values(admin_client):
    row = record(
        "setting.change",
        "alice",
        object_label="abuse_threshold",
        changes={"value": {"old": 10, "new": 3}},
    )

    page = admin_client.get(f"{CHANGELIST}{row.pk}/change/").content.decode()

    assert "<tr><th>value</th><td>10</td><td>3</td></tr>" in page


def test_the_log_cannot_be_written_from_the_admin(admin_client):
    row = record("client.activate", "alice")

    assert admin_client.get(CHANGELIST + "add/").status_code == 403
    assert admin_client.post(f"{CHANGELIST}{row.pk}/change/", {"actor": "mallory"}).status_code == 403
    assert admin_client.post(f"{CHANGELIST}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert OperatorAction.objects.get().actor == "alice"


def test_an_admin_action_appears_on_the_page_with_its_user(admin_client, make_client):
    creds = make_client("Acme")
    admin_client.post(
        "/admin/clients/client/", {"action": "deactivate", "_selected_action": [creds.id], "post": "yes"}
    )

    response = admin_client.get(CHANGELIST)

    assert listed(response) == ["client.deactivate admin"]
    assert "Acme" in response.content.decode()
