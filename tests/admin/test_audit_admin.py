import csv
import io
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.audit.admin import checks_summary
from tests.factories import MonitorEventFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/audit/monitorevent/"
PASSED_ALL = {
    "mobile": 1,
    "foreign_number": 1,
    "blacklist": 1,
    "duplicate": 1,
    "header_hash": 1,
    "time_window": 1,
}
FAILED_BLACKLIST = {
    "mobile": 1,
    "foreign_number": 1,
    "blacklist": 2,
    "duplicate": 0,
    "header_hash": 0,
    "time_window": 0,
}


def event(mobile: str, *, status: str = "valid", reason: str = "", age: timedelta = timedelta(0), **fields):
    defaults = {"check_results": PASSED_ALL if status == "valid" else FAILED_BLACKLIST}
    return MonitorEventFactory.create(
        occurred_at=timezone.now() - age,
        status=status,
        reason=reason,
        mobile=mobile,
        **{**defaults, **fields},
    )


def listed(response) -> list[str]:
    return [e.mobile for e in response.context["cl"].result_list]


def test_check_codes_read_as_marks_in_pipeline_order():
    results = {"time_window": 3, "blacklist": 2, "mobile": 1, "foreign_number": 1}

    assert checks_summary(results) == (
        "mobile ✓ · foreign_number ✓ · blacklist ✗ · duplicate – · header_hash – · time_window skip"  # noqa: RUF001
    )
    assert checks_summary({}) == ""


def test_the_list_shows_status_reason_number_and_checks(admin_client):
    event("9876543210", status="invalid", reason="blacklist")

    page = admin_client.get(CHANGELIST).content.decode()

    assert "9876543210" in page
    assert "blacklist ✗" in page
    assert "duplicate –" in page  # noqa: RUF001


def test_the_list_filters_by_status_and_reason(admin_client):
    event("9000000001")
    event("9000000002", status="invalid", reason="blacklist")
    event("9000000003", status="invalid", reason="header_hash")

    assert listed(admin_client.get(CHANGELIST, {"status": "invalid"})) == ["9000000003", "9000000002"]
    assert listed(admin_client.get(CHANGELIST, {"reason": "blacklist"})) == ["9000000002"]


def test_the_list_filters_by_date(admin_client):
    event("9000000001")
    event("9000000002", age=timedelta(days=10))
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)

    response = admin_client.get(
        CHANGELIST, {"occurred_at__gte": str(today), "occurred_at__lt": str(today + timedelta(days=1))}
    )

    assert listed(response) == ["9000000001"]


def test_the_list_filters_by_gateway_and_lists_gateways_by_name(admin_client, make_gateway):
    gateway = make_gateway("android")
    event("9000000001", gateway_id=str(gateway.id))
    event("9000000002", gateway_id=str(uuid.uuid4()))

    response = admin_client.get(CHANGELIST, {"gateway": str(gateway.id)})

    assert listed(response) == ["9000000001"]
    assert "android gateway" in response.content.decode()


def test_the_list_filters_by_client(admin_client, make_client):
    acme, other = make_client("Acme"), make_client("Other")
    event("9000000001", client_ids=[acme.id, other.id])
    event("9000000002", client_ids=[other.id])

    assert listed(admin_client.get(CHANGELIST, {"client": acme.id})) == ["9000000001"]
    assert listed(admin_client.get(CHANGELIST, {"client": other.id})) == ["9000000002", "9000000001"]


def test_search_finds_a_number_typed_in_any_format(admin_client):
    event("9876543210")
    event("9123456789")

    assert listed(admin_client.get(CHANGELIST, {"q": "+91 98765 43210"})) == ["9876543210"]


def test_events_cannot_be_added_changed_or_deleted(admin_client):
    row = event("9876543210")

    assert admin_client.get(CHANGELIST + "add/").status_code == 403
    assert admin_client.post(f"{CHANGELIST}{row.pk}/change/", {"status": "valid"}).status_code == 403
    assert admin_client.post(f"{CHANGELIST}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.get(f"{CHANGELIST}{row.pk}/change/").status_code == 200  # viewing is fine


def test_export_streams_the_selected_events_with_one_column_per_check(admin_client, make_gateway):
    gateway = make_gateway("native")
    row = event(
        "9876543210", status="invalid", reason="blacklist", gateway_id=str(gateway.id), client_ids=["c1"]
    )
    event("9123456789")

    response = admin_client.post(CHANGELIST, {"action": "export_csv", "_selected_action": [row.pk]})

    assert response.streaming
    assert 'filename="monitor_events.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1
    exported = rows[0]
    assert exported["mobile"] == "9876543210"
    assert (exported["status"], exported["reason"]) == ("invalid", "blacklist")
    assert exported["gateway_id"] == str(gateway.id)
    assert exported["client_ids"] == "c1"
    checks = {name: exported[f"check_{name}"] for name in FAILED_BLACKLIST}
    assert checks == {name: str(code) for name, code in FAILED_BLACKLIST.items()}
    assert exported["event_id"] == row.event_id


def test_the_list_names_each_events_gateway_in_one_query(
    admin_client, make_gateway, django_assert_max_num_queries
):
    android, native = make_gateway("android"), make_gateway("native")
    for i in range(10):
        event(f"90000000{i:02d}", gateway_id=str(android.id if i % 2 else native.id))
    gone = str(uuid.uuid4())
    event("9000000099", gateway_id=gone)

    response = admin_client.get(CHANGELIST)
    page = response.content.decode()

    names = {e.mobile: e.gateway_name for e in response.context["cl"].result_list}
    assert names["9000000001"] == "android gateway" and names["9000000002"] == "native gateway"
    assert f'<span title="{android.id}">android gateway</span>' in page
    assert f"{gone[:8]}…" in page  # a gateway deleted since: its id's first block
    with django_assert_max_num_queries(12):  # the page's queries do not grow with its rows
        admin_client.get(CHANGELIST)


def test_the_detail_page_names_the_gateway_and_the_clients(admin_client, make_gateway, make_client):
    gateway = make_gateway("twilio")
    acme = make_client("Acme Shop")
    row = event("9876543210", gateway_id=str(gateway.id), client_ids=[acme.id, "not-a-uuid"])

    page = admin_client.get(f"{CHANGELIST}{row.pk}/change/").content.decode()

    assert "twilio gateway" in page
    assert "Acme Shop" in page
