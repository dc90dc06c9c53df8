import json

import pytest
from django.core.cache import cache

from apps.core.models import SystemSetting
from apps.core.system_settings import CACHE_KEY, CHECK_NAMES, system_settings_get

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
