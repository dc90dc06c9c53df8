"""The monitor drain stores real JSON and the audit admin reads it, on every database.

Run on PostgreSQL by the main suite and on SQLite (the ``make run`` default) by the
SQLite tier of ``make test``: the COPY path and the ORM path must store the same rows.
"""

import pytest
from django.db import connection

from apps.audit.events import monitor_event
from apps.audit.models import MonitorEvent
from apps.audit.services import monitor_flush
from apps.core import keys
from apps.core.redis import get_redis

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/audit/monitorevent/"


@pytest.fixture
def drained(make_client):
    client = make_client("Acme")
    events = [
        monitor_event(
            status="invalid",
            mobile="9876543210",
            reason="header_hash",
            check_results={"mobile": 1, "header_hash": 2},
            client_ids=[client.id],
        ),
        monitor_event(status="valid", mobile="9876543211", check_results={"mobile": 1}, client_ids=[]),
    ]
    get_redis().lpush(keys.sms_monitor_queue(), *events)
    assert monitor_flush() == 2
    return client


def test_json_columns_hold_json_not_an_encoded_string(drained):
    stored = MonitorEvent.objects.get(mobile="9876543210")

    assert stored.check_results == {"mobile": 1, "header_hash": 2}
    assert stored.client_ids == [drained.id]


def test_the_audit_admin_lists_filters_searches_and_exports_drained_events(admin_client, drained):
    event = MonitorEvent.objects.get(mobile="9876543210")
    pages = {
        "list": CHANGELIST,
        "status": CHANGELIST + "?status=invalid",
        "reason": CHANGELIST + "?reason=header_hash",
        "date": CHANGELIST + "?occurred_at__gte=2000-01-01T00:00:00%2B00:00",
        "client": CHANGELIST + f"?client={drained.id}",
        "search": CHANGELIST + "?q=9876543210",
        "detail": f"{CHANGELIST}{event.pk}/change/",
    }

    answers = {name: admin_client.get(url) for name, url in pages.items()}

    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(pages, 200), (
        connection.vendor
    )
    assert "header_hash ✗" in answers["list"].content.decode()
    client_page = answers["client"].content.decode()
    assert "9876543210" in client_page and "9876543211" not in client_page
    export = admin_client.post(CHANGELIST, {"action": "export_csv", "_selected_action": [event.pk]})
    assert export.status_code == 200
    assert drained.id in b"".join(export.streaming_content).decode()
