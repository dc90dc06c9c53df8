import pytest

from apps.core.exceptions import ApplicationError
from apps.core.models import SystemSetting
from apps.core.system_settings import (
    CHECK_NAMES,
    DEFAULTS,
    default_rows,
    system_setting_set,
    system_settings_get,
)

pytestmark = pytest.mark.django_db


def test_the_data_migration_stores_every_default():
    stored = dict(SystemSetting.objects.values_list("key", "value"))

    assert stored == {key: value for key, value, _ in default_rows()}
    assert stored["salt_length"] == 16
    assert stored["permitted_headers"] == ["ONBOARD"]
    assert stored["allowed_country_codes"] == ["91"]
    assert stored["onboard_hash_ttl"] == 86400
    assert stored["check_sequence"] == list(CHECK_NAMES)


def test_a_saved_setting_is_seen_at_once(django_assert_num_queries):
    assert system_settings_get().abuse_threshold == DEFAULTS.abuse_threshold

    system_setting_set(key="abuse_threshold", value=3)

    assert system_settings_get().abuse_threshold == 3


def test_settings_are_served_from_the_cache_without_sql(django_assert_num_queries):
    system_settings_get()

    with django_assert_num_queries(0):
        system_settings_get()


def test_the_django_redis_cache_serves_other_processes(django_assert_num_queries):
    from apps.core import system_settings

    system_settings_get()
    system_settings._local.update(value=None, at=0.0)  # as a fresh process would start

    with django_assert_num_queries(0):
        assert system_settings_get() == DEFAULTS


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("check_sequence", ["mobile", "nonsense"], "unknown check"),
        ("check_sequence", ["mobile", "mobile"], "listed twice"),
        ("check_enabled", {"bogus": True}, "unknown check"),
        ("permitted_headers", [], "alphanumeric"),
        ("salt_length", "many", "salt_length"),
        ("abuse_threshold", -1, "negative"),
        ("no_such_setting", 1, "Unknown setting"),
    ],
)
def test_bad_values_are_refused_with_a_clear_message(key, value, message):
    with pytest.raises(ApplicationError) as caught:
        system_setting_set(key=key, value=value)

    assert message in caught.value.detail
