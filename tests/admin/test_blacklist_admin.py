import csv
import io

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.abuse.admin import blacklist_drain_queue
from apps.abuse.models import BlacklistAction, BlacklistEntry
from apps.abuse.services import blacklist_add, blacklist_flush
from apps.core import keys
from apps.core.models import OperatorAction
from apps.core.phone import mobile_parse
from apps.core.redis import get_redis
from tests.polling import wait_for

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/abuse/blacklistentry/"
ADD = CHANGELIST + "add/"
IMPORT = CHANGELIST + "import/"


def blacklisted(key: str) -> bool:
    return bool(get_redis().sismember(keys.blacklist_mobiles(), key))


def blacklist(number: str, reason: str = "seed") -> BlacklistEntry:
    mobile = mobile_parse(number)
    blacklist_add(mobile=mobile, source="command", reason=reason)
    blacklist_flush()
    return BlacklistEntry.objects.get(mobile=mobile.key)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_adding_a_number_blacklists_it_in_redis_at_once_and_records_the_operator(admin_client):
    response = admin_client.post(ADD, {"mobile_number": "+91 98765 43210", "reason": "fraud ring"})

    assert response.status_code == 302
    assert blacklisted("9876543210")
    blacklist_flush()  # the worker's part: the admin queued it
    entry = BlacklistEntry.objects.get(mobile="9876543210")
    assert (entry.source, entry.reason, entry.actor, entry.country_code) == (
        "admin",
        "fraud ring",
        "admin",
        "91",
    )
    action = BlacklistAction.objects.get(mobile="9876543210")
    assert (action.action, action.source, action.actor) == ("add", "admin", "admin")
    record = OperatorAction.objects.get()
    assert (record.action, record.actor, record.source, record.object_id, record.summary) == (
        "blacklist.add",
        "admin",
        "admin",
        "9876543210",
        "fraud ring",
    )


def test_adding_queues_the_drain_instead_of_running_it_in_the_request(
    admin_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        response = admin_client.post(ADD, {"mobile_number": "9876543210"}, follow=True)

    assert "9876543210 is blacklisted." in messages_of(response)
    assert blacklisted("9876543210")
    assert not BlacklistEntry.objects.exists()  # not drained by the request
    assert blacklist_drain_queue in queued


@pytest.mark.slow
@pytest.mark.skipif(
    "sqlite" in settings.DATABASES["default"]["ENGINE"], reason="the suite's Celery worker runs on PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_the_new_entry_is_listed_once_the_worker_has_drained(admin_client, celery_worker):
    response = admin_client.post(ADD, {"mobile_number": "9876543210"}, follow=True)

    assert "9876543210 is blacklisted." in messages_of(response)
    wait_for(
        lambda: "9876543210" in admin_client.get(CHANGELIST).content.decode(),
        message=celery_worker.logs,
    )


def test_an_invalid_number_shows_the_parser_error_and_blacklists_nothing(admin_client):
    response = admin_client.post(ADD, {"mobile_number": "12345", "reason": "x"})

    assert response.status_code == 200
    assert "is not a valid phone number" in response.content.decode()
    assert get_redis().scard(keys.blacklist_mobiles()) == 0
    assert not BlacklistEntry.objects.exists()


def test_adding_a_listed_number_again_says_so_and_records_nothing_new(admin_client):
    blacklist("9876543210")

    response = admin_client.post(ADD, {"mobile_number": "9876543210"}, follow=True)

    assert "9876543210 was already blacklisted." in messages_of(response)
    assert BlacklistAction.objects.count() == 1
    assert not OperatorAction.objects.exists()  # nothing changed


def test_deleting_an_entry_removes_it_from_redis_and_records_the_operator(admin_client):
    entry = blacklist("9876543210")

    response = admin_client.post(f"{CHANGELIST}{entry.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not blacklisted("9876543210")
    blacklist_flush()
    assert not BlacklistEntry.objects.exists()
    removal = BlacklistAction.objects.get(action="remove")
    assert (removal.mobile, removal.source, removal.actor) == ("9876543210", "admin", "admin")
    assert OperatorAction.objects.filter(
        action="blacklist.remove", actor="admin", object_id="9876543210"
    ).exists()


def test_the_bulk_remove_asks_first_and_changes_nothing_without_a_yes(admin_client):
    first, second = blacklist("9876543210"), blacklist("+14155550123")

    response = admin_client.post(
        CHANGELIST, {"action": "remove_from_blacklist", "_selected_action": [first.pk, second.pk]}
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Remove these numbers from the blacklist?" in page
    assert "9876543210" in page and "+14155550123" in page
    assert 'name="post" value="yes"' in page
    assert f'name="_selected_action" value="{first.pk}"' in page
    assert blacklisted("9876543210") and blacklisted("+14155550123")
    assert BlacklistEntry.objects.count() == 2
    assert not OperatorAction.objects.exists()


def test_the_bulk_action_removes_only_the_selected_numbers(admin_client):
    first, second, kept = blacklist("9876543210"), blacklist("+14155550123"), blacklist("9123456789")

    response = admin_client.post(
        CHANGELIST,
        {"action": "remove_from_blacklist", "_selected_action": [first.pk, second.pk], "post": "yes"},
        follow=True,
    )
    blacklist_flush()

    assert "Removed 2 number(s) from the blacklist." in messages_of(response)
    assert not blacklisted("9876543210")
    assert not blacklisted("+14155550123")
    assert blacklisted("9123456789")
    assert list(BlacklistEntry.objects.values_list("mobile", flat=True)) == [kept.mobile]
    assert set(BlacklistAction.objects.filter(action="remove").values_list("actor", flat=True)) == {"admin"}
    removed = OperatorAction.objects.filter(action="blacklist.remove", actor="admin")
    assert set(removed.values_list("object_id", flat=True)) == {"9876543210", "+14155550123"}


def test_entries_cannot_be_edited_only_added_or_removed(admin_client):
    entry = blacklist("9876543210")

    response = admin_client.post(f"{CHANGELIST}{entry.pk}/change/", {"reason": "edited"})

    assert response.status_code == 403
    assert BlacklistEntry.objects.get(pk=entry.pk).reason == "seed"


def test_search_finds_a_number_typed_in_any_format(admin_client):
    blacklist("9876543210")
    blacklist("9123456789")

    response = admin_client.get(CHANGELIST, {"q": "+91 98765-43210"})

    assert [e.mobile for e in response.context["cl"].result_list] == ["9876543210"]


def test_the_list_filters_by_source(admin_client):
    blacklist("9876543210")
    admin_client.post(ADD, {"mobile_number": "9123456789"})
    blacklist_flush()

    response = admin_client.get(CHANGELIST, {"source": "admin"})

    assert [e.mobile for e in response.context["cl"].result_list] == ["9123456789"]


def test_export_streams_the_selected_entries_as_csv(admin_client):
    entry = blacklist("9876543210", reason="=HYPERLINK(evil)")
    blacklist("+14155550123")

    response = admin_client.post(CHANGELIST, {"action": "export_csv", "_selected_action": [entry.pk]})

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "mobile_number",
        "country_code",
        "source",
        "reason",
        "actor",
        "created_at",
        "expires_at",
    ]
    assert rows[1][:5] == ["9876543210", "91", "command", "'=HYPERLINK(evil)", ""]
    assert len(rows) == 2


def upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("numbers.csv", text.encode(), content_type="text/csv")


def test_import_blacklists_each_valid_row_and_reports_the_counts(admin_client):
    blacklist("9123456789")
    text = (
        "mobile_number,reason\n"
        "9876543210,spam wave\n"
        "+14155550123,\n"
        "not-a-number,x\n"
        "9123456789,listed already\n"
        "+91 98765 43210,twice in the file\n"
    )

    response = admin_client.post(IMPORT, {"csv_file": upload(text)}, follow=True)
    blacklist_flush()

    shown = messages_of(response)
    assert "Import done: 2 added, 2 skipped (already blacklisted), 1 invalid." in shown
    assert any("line 4:" in m and "not-a-number" in m for m in shown)
    assert blacklisted("9876543210")
    assert blacklisted("+14155550123")
    entry = BlacklistEntry.objects.get(mobile="9876543210")
    assert (entry.reason, entry.source, entry.actor) == ("spam wave", "admin", "admin")
    assert BlacklistEntry.objects.count() == 3
    imported = OperatorAction.objects.filter(action="blacklist.import", actor="admin")
    assert set(imported.values_list("object_id", flat=True)) == {"9876543210", "+14155550123"}


def test_import_refuses_a_file_without_a_mobile_number_column(admin_client):
    response = admin_client.post(IMPORT, {"csv_file": upload("phone,reason\n9876543210,x\n")})

    assert response.status_code == 200
    assert "mobile_number column" in response.content.decode()
    assert not blacklisted("9876543210")


def test_an_export_can_be_imported_again(admin_client):
    entry = blacklist("9876543210")
    exported = admin_client.post(CHANGELIST, {"action": "export_csv", "_selected_action": [entry.pk]})
    text = b"".join(exported.streaming_content).decode()
    admin_client.post(
        CHANGELIST, {"action": "remove_from_blacklist", "_selected_action": [entry.pk], "post": "yes"}
    )
    blacklist_flush()
    assert not blacklisted("9876543210")

    admin_client.post(IMPORT, {"csv_file": upload(text)})
    blacklist_flush()

    assert blacklisted("9876543210")
    assert BlacklistEntry.objects.get(mobile="9876543210").reason == "seed"


def test_the_history_is_read_only(admin_client):
    blacklist("9876543210")
    action = BlacklistAction.objects.get()

    assert admin_client.get("/admin/abuse/blacklistaction/").status_code == 200
    assert admin_client.get("/admin/abuse/blacklistaction/add/").status_code == 403
    assert (
        admin_client.post(f"/admin/abuse/blacklistaction/{action.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )


def test_make_permanent_is_logged_with_the_old_expiry_and_in_the_entrys_history(admin_client):
    from datetime import timedelta

    from django.utils import timezone

    entry = blacklist("9876543210")
    lapse = timezone.now() + timedelta(days=3)
    BlacklistEntry.objects.filter(pk=entry.pk).update(expires_at=lapse)

    response = admin_client.post(
        CHANGELIST, {"action": "make_permanent", "_selected_action": [entry.pk]}, follow=True
    )

    assert "Made 1 entries permanent." in messages_of(response)
    assert BlacklistEntry.objects.get(pk=entry.pk).expires_at is None
    record = OperatorAction.objects.get(action="blacklist.make_permanent")
    assert (record.actor, record.object_id) == ("admin", "9876543210")
    assert record.changes == {"expires_at": {"old": lapse.isoformat(), "new": None}}
    history = admin_client.get(f"{CHANGELIST}{entry.pk}/history/").content.decode()
    assert "Made permanent (no longer lapses)." in history
