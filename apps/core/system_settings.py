"""System settings: defaults in code, overrides in the SystemSetting table.

Reads are hot-path: a process keeps its copy for SYSTEM_SETTINGS_LOCAL_CACHE_SECONDS,
then asks the django-redis cache, and only on a cache miss the database. A write goes
through ``system_setting_set``, which validates the value and drops the cached copy.
With the database down, the cached or default values keep the hot path serving.

Every value has a type, checked by one parser per key (``PARSERS``) wherever a value
comes in: the admin form, ``system_setting_set`` and the load from the database. A bad
stored value (written by hand, or by an older version) is ignored with a warning and
the default used: a string "false" must never switch a check on or off by accident.
"""

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, InterfaceError, transaction

from .exceptions import ApplicationError
from .models import SystemSetting
from .operator_log import Actor, operator_action_record

logger = logging.getLogger(__name__)

CHECK_NAMES = ("mobile", "foreign_number", "blacklist", "duplicate", "header_hash", "time_window")
# The cache holds a JSON dict of the stored forms, never a pickled object: whatever Redis
# hands back is only ever parsed as data (v1 was pickled; its entries are simply ignored).
CACHE_KEY = "system_settings:v2"
# Checks that keep abusers and unproven numbers out; outside debug none may be left out.
SECURITY_CHECKS = ("mobile", "blacklist", "duplicate", "header_hash")
MIN_SALT_LENGTH = 16
OTP_DEFAULT_TEMPLATE = "Your verification code is {code}. It expires in {minutes} minutes."


@dataclass(frozen=True)
class Settings:
    salt_length: int = 16
    permitted_headers: tuple[str, ...] = ("ONBOARD",)
    check_sequence: tuple[str, ...] = CHECK_NAMES
    check_enabled: tuple[tuple[str, bool], ...] = tuple((name, True) for name in CHECK_NAMES)
    allowed_country_codes: tuple[str, ...] = ("91",)
    time_window_seconds: int = 900
    clock_skew_seconds: int = 120
    abuse_threshold: int = 10
    onboard_hash_ttl: int = 86400
    register_rate_per_minute: int = 600
    register_per_client_number_per_hour: int = 5
    register_per_number_per_hour: int = 50
    otp_ttl_seconds: int = 300
    otp_max_attempts: int = 5
    otp_attempts_ttl: int = 3600
    abuse_blacklist_days: int = 7
    notification_max_attempts: int = 3
    notification_retry_base_seconds: int = 30
    gateway_cooldown_seconds: int = 60
    notification_rate_per_minute: int = 600
    notification_per_destination_per_hour: int = 30
    otp_code_length: int = 6
    otp_message_template: str = OTP_DEFAULT_TEMPLATE
    otp_allowed_country_codes: tuple[str, ...] = ("91",)
    otp_request_rate_per_minute: int = 600
    otp_request_per_number_per_hour: int = 5
    otp_request_per_ip_per_hour: int = 20
    otp_verify_rate_per_minute: int = 1200
    otp_verify_per_number_per_hour: int = 30
    otp_verify_per_ip_per_hour: int = 60
    otp_prefix_digits: int = 4
    otp_prefix_per_window: int = 100
    otp_prefix_window_seconds: int = 3600
    otp_conversion_min_requests: int = 50
    otp_conversion_min_percent: int = 20
    otp_prefix_cooldown_seconds: int = 3600

    def is_enabled(self, check: str) -> bool:
        return dict(self.check_enabled).get(check, False)

    @property
    def hash_header(self) -> str:
        return self.permitted_headers[0]


DEFAULTS = Settings()
DESCRIPTIONS = {
    "salt_length": "Hex characters of random salt mixed into each onboarding hash (rounded down to even).",
    "permitted_headers": "Accepted SMS headers (HEADER:hash); the first is used to build hashes.",
    "check_sequence": "Order in which validation checks run; the pipeline stops at the first failure.",
    "check_enabled": "Per-check switch; a disabled check is recorded as skipped (3).",
    "allowed_country_codes": "Country calling codes whose numbers may onboard.",
    "time_window_seconds": "How old an SMS's own timestamp may be when it is judged.",
    "clock_skew_seconds": "How far in the future an SMS timestamp may be (gateway clock skew).",
    "abuse_threshold": "SMS judged invalid per number per day at which the sweep blacklists the number.",
    "onboard_hash_ttl": "Seconds an onboarding hash stays valid.",
    "register_rate_per_minute": "Register calls per client per minute before 429.",
    "register_per_client_number_per_hour": "Register calls by one client for one number per hour before 429.",
    "register_per_number_per_hour": "Register calls for one number by all clients together per hour before 429 "
    "(a ceiling well above the per-client limit, so no single client can lock a number out).",
    "otp_ttl_seconds": "Seconds an OTP stays valid.",
    "otp_max_attempts": "Failed OTP checks before the number is blocked (429) for the client.",
    "otp_attempts_ttl": "Seconds the failed-attempt counter is kept: how long a blocked number stays blocked.",
    "abuse_blacklist_days": "Days a number blacklisted by the abuse sweep stays listed, unless an operator "
    "makes the entry permanent.",
    "notification_max_attempts": "Attempts to send a notification before it is marked failed.",
    "notification_retry_base_seconds": "Wait before a notification's second attempt; it doubles for each "
    "later one.",
    "gateway_cooldown_seconds": "How long a sending gateway that failed is skipped; it doubles with each "
    "failure in a row (at most an hour).",
    "notification_rate_per_minute": "Notifications a client may queue per minute before 429.",
    "notification_per_destination_per_hour": "Notifications one client may queue to one number or address "
    "per hour before 429.",
    "otp_code_length": "Digits of a one-time code (4 to 10).",
    "otp_message_template": "SMS that carries a code: {code} is replaced by the code, {minutes} by its "
    "lifetime in minutes; a client's OTP policy may override it.",
    "otp_allowed_country_codes": "Country calling codes a client may send codes to, unless its OTP policy "
    "names its own.",
    "otp_request_rate_per_minute": "OTP requests per client per minute before 429.",
    "otp_request_per_number_per_hour": "OTP requests by one client for one number per hour before 429.",
    "otp_request_per_ip_per_hour": "OTP requests by one client from one end-user IP per hour before 429.",
    "otp_verify_rate_per_minute": "OTP checks per client per minute before 429.",
    "otp_verify_per_number_per_hour": "OTP checks by one client for one number per hour before 429.",
    "otp_verify_per_ip_per_hour": "OTP checks by one client from one end-user IP per hour before 429.",
    "otp_prefix_digits": "Digits after the country code that make a destination prefix (the SMS-pumping "
    "guard's unit).",
    "otp_prefix_per_window": "Codes one client may send to one prefix per otp_prefix_window_seconds before "
    "429 (safe-listed numbers exempt).",
    "otp_prefix_window_seconds": "The window of otp_prefix_per_window.",
    "otp_conversion_min_requests": "Codes to a prefix within the last hour that had their chance before "
    "the conversion watch judges it.",
    "otp_conversion_min_percent": "Below this share of those codes verified, the prefix is blocked for "
    "the client.",
    "otp_prefix_cooldown_seconds": "How long a prefix the conversion watch blocked stays blocked (an "
    "operator can lift it sooner).",
}

_local: dict[str, Any] = {"value": None, "at": 0.0}


def system_settings_get() -> Settings:
    now = time.monotonic()
    cached = _local["value"]
    if cached is not None and now - _local["at"] < settings.SYSTEM_SETTINGS_LOCAL_CACHE_SECONDS:
        return cached
    value = _from_cache(cache.get(CACHE_KEY))
    if value is None:
        value = _load_from_database()
        cache.set(CACHE_KEY, _stored_form(value), timeout=None)
    _local.update(value=value, at=now)
    return value


def _from_cache(stored: Any) -> Settings | None:
    if not isinstance(stored, dict):
        return None
    try:
        values = {name: _parse(name, raw) for name, raw in stored.items() if name in _field_names()}
    except ValueError:
        return None  # written by an incompatible version: reload from the database
    return Settings(**values)


def _load_from_database() -> Settings:
    try:
        rows = {row.key: row.value for row in SystemSetting.objects.all()}
    except (DatabaseError, InterfaceError) as exc:
        logger.warning("system settings unavailable, using cached or default values: %s", exc)
        return _local["value"] or DEFAULTS
    values = {}
    for name in _field_names() & set(rows):
        try:
            values[name] = _parse(name, rows[name])
        except ValueError as exc:
            logger.warning("system setting %s ignored, using its default: %s", name, exc)
    return Settings(**values)


def _field_names() -> set[str]:
    return {f.name for f in fields(Settings)}


def _parse(name: str, raw: Any) -> Any:
    """The typed value of the stored JSON ``raw``, or ValueError saying what is wrong."""
    value = PARSERS[name](raw)
    rules = () if settings.DEBUG else PRODUCTION_RULES.get(name, ())
    for rule in rules:
        if problem := rule(value):
            raise ValueError(problem)
    return value


def system_setting_validate(*, key: str, value: Any) -> Any:
    """``value`` unchanged when it is right for ``key``, else ApplicationError saying what is wrong.

    Each key has one parser (PARSERS: type and range, always) and may have production
    rules (PRODUCTION_RULES, outside debug: a development box may switch security checks
    off, a production one may not).
    """
    if key not in _field_names():
        raise ApplicationError(f"Unknown setting {key!r}.", code="unknown_setting")
    try:
        _parse(key, value)
    except ValueError as exc:
        raise ApplicationError(f"{key}: {exc}", code="invalid_setting") from exc
    return value


# --- the types -----------------------------------------------------------------------------
Parser = Callable[[Any], Any]
MAX_SECONDS = 10 * 365 * 86400  # far beyond any sensible value, well within datetime's range
MAX_SALT_LENGTH = 128
MAX_BLACKLIST_DAYS = 3650
MAX_NOTIFICATION_ATTEMPTS = 20
MAX_HEADER_LENGTH = 20
_COUNTRY_CODE = re.compile(r"[0-9]{1,3}")
_HEADER = re.compile(r"[A-Za-z0-9]+")
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
MAX_OTP_TEMPLATE_LENGTH = 480  # with a 10-digit code, well inside one notification's 1,600


def _shown(raw: Any) -> str:
    """How a JSON value reads in a message: 'the string "900"', 'the number 1.5', 'true'."""
    if isinstance(raw, bool) or raw is None:
        return json.dumps(raw)
    if isinstance(raw, list | dict):
        return "a list" if isinstance(raw, list) else "an object"
    if isinstance(raw, str):  # also the admin form's JSONString
        return f"the string {json.dumps(str(raw))}"
    return f"the number {json.dumps(raw)}" if isinstance(raw, int | float) else type(raw).__name__


def _whole_number(*, minimum: int, maximum: int) -> Parser:
    def parse(raw: Any) -> int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            hint = " (write it without quotes)" if isinstance(raw, str) else ""
            raise ValueError(f"must be a whole number, not {_shown(raw)}{hint}.")
        if raw < minimum:
            raise ValueError(
                "must be positive (at least 1)." if minimum == 1 else f"must be at least {minimum}."
            )
        if raw > maximum:
            raise ValueError(f"must be at most {maximum}.")
        return raw

    return parse


def _string_list(raw: Any, *, example: str) -> list[str]:
    if not isinstance(raw, list):
        raise ValueError(f"must be a list such as {example}, not {_shown(raw)}.")
    wrong = [item for item in raw if not isinstance(item, str)]
    if wrong:
        raise ValueError(f"each item must be a string (in quotes) as in {example}, not {_shown(wrong[0])}.")
    return raw


def _no_duplicates(items: list[str], *, what: str) -> None:
    seen: set[str] = set()
    for item in items:
        if item.upper() in seen:
            raise ValueError(f"{what} {item} is listed twice.")
        seen.add(item.upper())


def _country_codes(raw: Any) -> tuple[str, ...]:
    codes = _string_list(raw, example='["91", "44"]')
    if not codes:
        raise ValueError('give at least one country calling code, such as ["91"].')
    for code in codes:
        if not _COUNTRY_CODE.fullmatch(code):
            raise ValueError(f"{json.dumps(code)} is not a country calling code (1 to 3 digits, no +).")
        if phonenumbers.region_code_for_country_code(int(code)) == "ZZ":
            raise ValueError(f"{code} is not an assigned country calling code.")
    _no_duplicates(codes, what="country code")
    return tuple(codes)


def otp_template_problem(text: str) -> str | None:
    """What is wrong with an OTP message template, or None (also the per-client override's check)."""
    if not text.strip():
        return "must not be empty."
    if len(text) > MAX_OTP_TEMPLATE_LENGTH:
        return f"must be at most {MAX_OTP_TEMPLATE_LENGTH} characters."
    if "{code}" not in text:
        return "must contain {code}, where the code goes."
    unknown = sorted(set(_PLACEHOLDER.findall(text)) - {"{code}", "{minutes}"})
    if unknown:
        return f"unknown placeholder(s) {', '.join(unknown)}; known: {{code}}, {{minutes}}."
    return None


def _otp_template(raw: Any) -> str:
    if not isinstance(raw, str):
        raise ValueError(f"must be a string, not {_shown(raw)}.")
    if problem := otp_template_problem(raw):
        raise ValueError(problem)
    return raw


def _check_sequence(raw: Any) -> tuple[str, ...]:
    names = _string_list(raw, example='["mobile", "blacklist"]')
    unknown = [name for name in names if name not in CHECK_NAMES]
    if unknown:
        raise ValueError(f"unknown check(s) {', '.join(unknown)}; known: {', '.join(CHECK_NAMES)}.")
    if len(set(names)) != len(names):
        raise ValueError("a check is listed twice.")
    return tuple(names)


def _check_enabled(raw: Any) -> tuple[tuple[str, bool], ...]:
    """Switches given as an object; checks it does not name keep their default (on)."""
    if not isinstance(raw, dict):
        raise ValueError(f'must be an object such as {{"time_window": false}}, not {_shown(raw)}.')
    unknown = sorted(set(raw) - set(CHECK_NAMES))
    if unknown:
        raise ValueError(f"unknown check(s) {', '.join(unknown)}; known: {', '.join(CHECK_NAMES)}.")
    wrong = [name for name, on in raw.items() if not isinstance(on, bool)]
    if wrong:
        raise ValueError(f"{wrong[0]} must be true or false, not {_shown(raw[wrong[0]])}.")
    return tuple({**dict(DEFAULTS.check_enabled), **raw}.items())


def _headers(raw: Any) -> tuple[str, ...]:
    headers = _string_list(raw, example='["ONBOARD"]')
    if not headers:
        raise ValueError('give one or more alphanumeric headers, such as ["ONBOARD"].')
    for header in headers:
        if not _HEADER.fullmatch(header) or len(header) > MAX_HEADER_LENGTH:
            raise ValueError(
                f"{json.dumps(header)} is not a header: give alphanumeric headers (A-Z, 0-9, "
                f"at most {MAX_HEADER_LENGTH} characters)."
            )
    _no_duplicates(headers, what="header")  # SMS headers match ignoring case
    return tuple(headers)


_count = _whole_number(minimum=1, maximum=2**31 - 1)
_seconds = _whole_number(minimum=1, maximum=MAX_SECONDS)
PARSERS: dict[str, Parser] = {
    "salt_length": _whole_number(minimum=2, maximum=MAX_SALT_LENGTH),
    "permitted_headers": _headers,
    "check_sequence": _check_sequence,
    "check_enabled": _check_enabled,
    "allowed_country_codes": _country_codes,
    "time_window_seconds": _seconds,
    # 0 is meaningful here: no SMS timestamp may lie in the future at all.
    "clock_skew_seconds": _whole_number(minimum=0, maximum=MAX_SECONDS),
    "abuse_threshold": _count,
    "onboard_hash_ttl": _seconds,
    "register_rate_per_minute": _count,
    "register_per_client_number_per_hour": _count,
    "register_per_number_per_hour": _count,
    "otp_ttl_seconds": _seconds,
    "otp_max_attempts": _count,
    "otp_attempts_ttl": _seconds,
    "abuse_blacklist_days": _whole_number(minimum=1, maximum=MAX_BLACKLIST_DAYS),
    "notification_max_attempts": _whole_number(minimum=1, maximum=MAX_NOTIFICATION_ATTEMPTS),
    "notification_retry_base_seconds": _seconds,
    "gateway_cooldown_seconds": _seconds,
    "notification_rate_per_minute": _count,
    "notification_per_destination_per_hour": _count,
    "otp_code_length": _whole_number(minimum=4, maximum=10),
    "otp_message_template": _otp_template,
    "otp_allowed_country_codes": _country_codes,
    "otp_request_rate_per_minute": _count,
    "otp_request_per_number_per_hour": _count,
    "otp_request_per_ip_per_hour": _count,
    "otp_verify_rate_per_minute": _count,
    "otp_verify_per_number_per_hour": _count,
    "otp_verify_per_ip_per_hour": _count,
    "otp_prefix_digits": _whole_number(minimum=0, maximum=10),
    "otp_prefix_per_window": _count,
    "otp_prefix_window_seconds": _seconds,
    "otp_conversion_min_requests": _count,
    "otp_conversion_min_percent": _whole_number(minimum=0, maximum=100),
    "otp_prefix_cooldown_seconds": _seconds,
}


# --- production rules: what debug may weaken and production may not -------------------------
# A rule takes the typed value and returns what is wrong, or None.
Rule = Callable[[Any], str | None]


def _runs_security_checks(sequence: tuple[str, ...]) -> str | None:
    missing = [name for name in SECURITY_CHECKS if name not in sequence]
    if missing:
        return f"must keep the security check(s) {', '.join(missing)} (allowed only with DJANGO_DEBUG=1)."
    return None


def _enables_security_checks(switches: tuple[tuple[str, bool], ...]) -> str | None:
    switched_off = [name for name in SECURITY_CHECKS if not dict(switches).get(name, False)]
    if switched_off:
        return f"must not disable {', '.join(switched_off)} (allowed only with DJANGO_DEBUG=1)."
    return None


def _long_enough_salt(length: int) -> str | None:
    if length < MIN_SALT_LENGTH:
        return f"must be at least {MIN_SALT_LENGTH} (shorter salts allowed only with DJANGO_DEBUG=1)."
    return None


PRODUCTION_RULES: dict[str, tuple[Rule, ...]] = {
    "check_sequence": (_runs_security_checks,),
    "check_enabled": (_enables_security_checks,),
    "salt_length": (_long_enough_salt,),
}


# --- writes --------------------------------------------------------------------------------
@transaction.atomic
def system_setting_set(*, key: str, value: Any, actor: Actor | None = None) -> SystemSetting:
    """Validate and store ``value``; with an ``actor``, the operator log gets the old and new value."""
    system_setting_validate(key=key, value=value)
    old = SystemSetting.objects.select_for_update().filter(key=key).values_list("value", flat=True).first()
    setting, _ = SystemSetting.objects.update_or_create(
        key=key, defaults={"value": value, "description": DESCRIPTIONS.get(key, "")}
    )
    if actor is not None and old != value:
        operator_action_record(
            actor=actor,
            action="setting.change",
            obj=setting,
            summary=f"{key}: {json.dumps(old)} -> {json.dumps(value)}"[:255],
            changes={"value": {"old": old, "new": value}},
        )
    system_settings_invalidate()  # this process sees the new value at once
    # ... and a copy another process cached from the table before this commit is dropped too.
    transaction.on_commit(system_settings_invalidate)
    return setting


def system_settings_invalidate() -> None:
    cache.delete(CACHE_KEY)
    _local.update(value=None, at=0.0)


def default_rows() -> list[tuple[str, Any, str]]:
    """(key, JSON value, description) of every setting, for the data migration."""
    return [(name, value, DESCRIPTIONS.get(name, "")) for name, value in _stored_form(DEFAULTS).items()]


def _stored_form(values: Settings) -> dict[str, Any]:
    """``values`` as the JSON the table (and the cache) holds: lists, and check_enabled as an object."""
    stored: dict[str, Any] = {}
    for f in fields(Settings):
        value = getattr(values, f.name)
        if f.name == "check_enabled":
            value = dict(value)
        elif isinstance(value, tuple):
            value = list(value)
        stored[f.name] = value
    return stored
