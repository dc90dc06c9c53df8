import logging

import pytest

from apps.core.exceptions import ApplicationError
from apps.core.models import OperatorAction, SystemSetting
from apps.core.operator_log import Actor
from apps.core.system_settings import (
    CHECK_NAMES,
    DEFAULTS,
    default_rows,
    system_setting_set,
    system_setting_validate,
    system_settings_get,
    system_settings_invalidate,
)

pytestmark = pytest.mark.django_db

# (key, a wrong value, words of the message that says what is wrong). Shared with the admin tests.
BAD_SETTINGS = [
    ("allowed_country_codes", "91", 'must be a list such as ["91", "44"], not the string "91"'),
    ("allowed_country_codes", 91, 'must be a list such as ["91", "44"], not the number 91'),
    ("allowed_country_codes", [91], "each item must be a string (in quotes)"),
    ("allowed_country_codes", [], 'give at least one country calling code, such as ["91"]'),
    ("allowed_country_codes", ["+91"], '"+91" is not a country calling code (1 to 3 digits, no +)'),
    ("allowed_country_codes", ["9100"], "1 to 3 digits"),
    ("allowed_country_codes", ["999"], "999 is not an assigned country calling code"),
    ("allowed_country_codes", ["91", "91"], "country code 91 is listed twice"),
    ("time_window_seconds", "900", 'must be a whole number, not the string "900" (write it without quotes)'),
    ("time_window_seconds", 1.5, "must be a whole number, not the number 1.5"),
    ("time_window_seconds", 0, "must be positive (at least 1)"),
    ("abuse_threshold", -1, "must be positive"),
    ("abuse_threshold", True, "must be a whole number, not true"),
    ("register_rate_per_minute", [600], "must be a whole number, not a list"),
    ("otp_max_attempts", 0, "must be positive"),
    ("clock_skew_seconds", -5, "must be at least 0"),
    ("abuse_blacklist_days", 100000, "must be at most 3650"),
    ("salt_length", 1000, "must be at most 128"),
    ("salt_length", "many", "must be a whole number"),
    ("check_sequence", ["mobile", "nonsense"], "unknown check(s) nonsense; known: mobile, foreign_number"),
    ("check_sequence", ["mobile", "mobile"], "a check is listed twice"),
    ("check_sequence", "mobile", "must be a list such as"),
    ("check_enabled", {"bogus": True}, "unknown check(s) bogus"),
    ("check_enabled", {"blacklist": "false"}, 'blacklist must be true or false, not the string "false"'),
    ("check_enabled", {"time_window": 0}, "time_window must be true or false, not the number 0"),
    ("check_enabled", ["blacklist"], 'must be an object such as {"time_window": false}, not a list'),
    ("permitted_headers", [], "give one or more alphanumeric headers"),
    ("permitted_headers", "ONBOARD", 'must be a list such as ["ONBOARD"], not the string "ONBOARD"'),
    ("permitted_headers", ["ON BOARD"], '"ON BOARD" is not a header: give alphanumeric headers'),
    ("permitted_headers", ["ONBOARD", "onboard"], "header onboard is listed twice"),
]
GOOD_SETTINGS = [
    ("allowed_country_codes", ["91", "1", "44"]),
    ("time_window_seconds", 60),
    ("clock_skew_seconds", 0),
    ("check_enabled", {"time_window": False}),
    ("check_sequence", ["blacklist", "mobile", "duplicate", "header_hash"]),
    ("permitted_headers", ["VERIFY", "ONBOARD"]),
    ("salt_length", 32),
]


def test_the_data_migration_stores_every_default():
    stored = dict(SystemSetting.objects.values_list("key", "value"))

    assert stored == {key: value for key, value, _ in default_rows()}
    assert stored["salt_length"] == 16
    assert stored["permitted_headers"] == ["ONBOARD"]
    assert stored["allowed_country_codes"] == ["91"]
    assert stored["onboard_hash_ttl"] == 86400
    assert stored["check_sequence"] == list(CHECK_NAMES)


def test_every_default_passes_its_own_validation():
    for key, value, _ in default_rows():
        assert system_setting_validate(key=key, value=value) == value


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


@pytest.mark.parametrize(("key", "value", "message"), BAD_SETTINGS)
def test_the_service_refuses_a_wrong_value_with_a_clear_message(key, value, message):
    before = SystemSetting.objects.get(key=key).value

    with pytest.raises(ApplicationError) as caught:
        system_setting_set(key=key, value=value)

    assert caught.value.code == "invalid_setting"
    assert caught.value.detail.startswith(f"{key}: ")
    assert message in caught.value.detail
    assert SystemSetting.objects.get(key=key).value == before


def test_null_and_unknown_keys_are_refused():
    with pytest.raises(ApplicationError, match="must be a whole number, not null"):
        system_setting_set(key="onboard_hash_ttl", value=None)
    with pytest.raises(ApplicationError, match="Unknown setting 'no_such_setting'"):
        system_setting_set(key="no_such_setting", value=1)


@pytest.mark.parametrize(("key", "value"), GOOD_SETTINGS)
def test_right_values_are_accepted_and_read_back_typed(key, value):
    system_setting_set(key=key, value=value)

    read = getattr(system_settings_get(), key)
    expected = (
        tuple({**dict(DEFAULTS.check_enabled), **value}.items())
        if key == "check_enabled"
        else tuple(value)
        if isinstance(value, list)
        else value
    )
    assert read == expected


def store_directly(key: str, value: object) -> None:
    """As a hand-edited row or an older version would have left it: no validation."""
    SystemSetting.objects.filter(key=key).update(value=value)
    system_settings_invalidate()


@pytest.mark.parametrize(("key", "value", "message"), BAD_SETTINGS)
def test_a_wrong_stored_value_is_ignored_with_a_warning_and_the_default_used(key, value, message, caplog):
    store_directly(key, value)

    with caplog.at_level(logging.WARNING, logger="apps.core.system_settings"):
        loaded = system_settings_get()

    assert getattr(loaded, key) == getattr(DEFAULTS, key)
    warning = next(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert f"system setting {key} ignored, using its default" in warning
    assert message in warning


def test_a_string_false_in_the_table_never_switches_a_check_off():
    store_directly("check_enabled", {"blacklist": "false", "time_window": False})

    loaded = system_settings_get()

    # The whole stored object is refused: the default (every check on) is used.
    assert loaded.is_enabled("blacklist") is True
    assert loaded.is_enabled("time_window") is True


def test_other_stored_settings_still_load_beside_a_wrong_one():
    store_directly("abuse_threshold", "12")
    SystemSetting.objects.filter(key="time_window_seconds").update(value=60)
    system_settings_invalidate()

    loaded = system_settings_get()

    assert loaded.abuse_threshold == DEFAULTS.abuse_threshold
    assert loaded.time_window_seconds == 60


def test_a_weakening_value_stored_under_debug_is_not_used_in_production(settings):
    store_directly("check_enabled", {"header_hash": False})

    settings.DEBUG = True
    assert system_settings_get().is_enabled("header_hash") is False
    system_settings_invalidate()
    settings.DEBUG = False
    assert system_settings_get().is_enabled("header_hash") is True


def test_a_change_with_an_actor_records_the_old_and_new_value():
    system_setting_set(
        key="allowed_country_codes", value=["91", "44"], actor=Actor(name="ops", source="admin")
    )

    record = OperatorAction.objects.get(action="setting.change")
    assert (record.actor, record.source, record.object_label) == ("ops", "admin", "allowed_country_codes")
    assert record.changes == {"value": {"old": ["91"], "new": ["91", "44"]}}
    assert '["91"] -> ["91", "44"]' in record.summary


def test_a_refused_change_records_nothing():
    with pytest.raises(ApplicationError):
        system_setting_set(key="abuse_threshold", value="3", actor=Actor(name="ops", source="admin"))

    assert not OperatorAction.objects.exists()
