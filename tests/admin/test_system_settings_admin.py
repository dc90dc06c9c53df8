import html
import json

import pytest
from django.contrib.admin.models import LogEntry
from django.core.cache import cache

from apps.core.models import OperatorAction, SystemSetting
from apps.core.system_settings import CACHE_KEY, CHECK_NAMES, system_settings_get
from tests.core.test_system_settings import BAD_SETTINGS

pytestmark = pytest.mark.django_db


def change_url(key: str) -> str:
    return f"/admin/core/systemsetting/{SystemSetting.objects.get(key=key).pk}/change/"


def test_an_unknown_check_in_check_sequence_is_refused_with_a_clear_message(admin_client):
    response = admin_client.post(change_url("check_sequence"), {"value": json.dumps(["mobile", "nonsense"])})

    assert response.status_code == 200
    page = response.content.decode()
    assert "check_sequence: unknown check(s) nonsense; known: mobile, foreign_number" in page
    assert SystemSetting.objects.get(key="check_sequence").value == list(CHECK_NAMES)
    assert system_settings_get().check_sequence == CHECK_NAMES


def test_a_check_listed_twice_is_refused(admin_client):
    response = admin_client.post(change_url("check_sequence"), {"value": '["mobile", "mobile"]'})

    assert "a check is listed twice" in response.content.decode()


def test_a_value_that_is_not_json_is_refused(admin_client):
    response = admin_client.post(change_url("abuse_threshold"), {"value": "ten"})

    assert response.status_code == 200
    assert SystemSetting.objects.get(key="abuse_threshold").value == 10


def test_a_valid_change_is_saved_and_seen_at_once(admin_client):
    assert system_settings_get().abuse_threshold == 10
    assert cache.get(CACHE_KEY) is not None  # what other processes read
    new_sequence = ["blacklist", "mobile", "duplicate", "header_hash"]

    admin_client.post(change_url("abuse_threshold"), {"value": "3"})
    assert cache.get(CACHE_KEY) is None
    response = admin_client.post(change_url("check_sequence"), {"value": json.dumps(new_sequence)})

    assert response.status_code == 302
    assert system_settings_get().abuse_threshold == 3
    assert system_settings_get().check_sequence == tuple(new_sequence)
    assert SystemSetting.objects.get(key="check_sequence").value == new_sequence


def test_the_change_page_shows_the_description_and_default(admin_client):
    page = admin_client.get(change_url("onboard_hash_ttl")).content.decode()

    assert "Seconds an onboarding hash stays valid." in page
    assert "86400" in page


def test_settings_are_neither_added_nor_deleted_in_the_admin(admin_client):
    assert admin_client.get("/admin/core/systemsetting/add/").status_code == 403
    pk = SystemSetting.objects.get(key="salt_length").pk
    assert admin_client.post(f"/admin/core/systemsetting/{pk}/delete/", {"post": "yes"}).status_code == 403


@pytest.mark.parametrize(("key", "value", "message"), BAD_SETTINGS)
def test_the_form_refuses_each_wrong_value_with_the_services_message(admin_client, key, value, message):
    before = SystemSetting.objects.get(key=key).value

    response = admin_client.post(change_url(key), {"value": json.dumps(value)})

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["value"]
    assert any(e.startswith(f"{key}: ") and message in e for e in errors), errors
    assert message in html.unescape(response.content.decode())
    assert SystemSetting.objects.get(key=key).value == before
    assert not OperatorAction.objects.exists()


def test_a_change_is_logged_with_the_admin_user_and_the_old_and_new_value(admin_client):
    admin_client.post(change_url("allowed_country_codes"), {"value": '["91", "1"]'})

    record = OperatorAction.objects.get()
    assert (record.action, record.actor, record.source) == ("setting.change", "admin", "admin")
    assert record.changes == {"value": {"old": ["91"], "new": ["91", "1"]}}
    setting = SystemSetting.objects.get(key="allowed_country_codes")
    history = admin_client.get(f"/admin/core/systemsetting/{setting.pk}/history/").content.decode()
    assert "Changed Value." in history
    assert LogEntry.objects.filter(object_id=str(setting.pk)).count() == 1
