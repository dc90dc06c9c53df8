"""System settings: defaults in code, overrides in the SystemSetting table.

Reads are hot-path: a process keeps its copy for SYSTEM_SETTINGS_LOCAL_CACHE_SECONDS,
then asks the django-redis cache, and only on a cache miss the database. A write goes
through ``system_setting_set``, which validates the value and drops the cached copy.
With the database down, the cached or default values keep the hot path serving.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, InterfaceError

from .exceptions import ApplicationError
from .models import SystemSetting

logger = logging.getLogger(__name__)

CHECK_NAMES = ("mobile", "foreign_number", "blacklist", "duplicate", "header_hash", "time_window")
# The cache holds a JSON dict of the stored forms, never a pickled object: whatever Redis
# hands back is only ever parsed as data (v1 was pickled; its entries are simply ignored).
CACHE_KEY = "system_settings:v2"
# Checks that keep abusers and unproven numbers out; outside debug none may be left out.
SECURITY_CHECKS = ("mobile", "blacklist", "duplicate", "header_hash")
MIN_SALT_LENGTH = 16


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
    "otp_max_attempts": "Failed OTP checks before the number is blocked.",
    "otp_attempts_ttl": "Seconds the failed-attempt counter is kept.",
    "abuse_blacklist_days": "Days a number blacklisted by the abuse sweep stays listed, unless an operator "
    "makes the entry permanent.",
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
        return _build({name: raw for name, raw in stored.items() if name in _field_names()})
    except (TypeError, ValueError):
        return None  # written by an incompatible version: reload from the database


def _load_from_database() -> Settings:
    try:
        rows = {row.key: row.value for row in SystemSetting.objects.all()}
    except (DatabaseError, InterfaceError) as exc:
        logger.warning("system settings unavailable, using cached or default values: %s", exc)
        return _local["value"] or DEFAULTS
    return _build({name: rows[name] for name in rows if name in _field_names()})


def _field_names() -> set[str]:
    return {f.name for f in fields(Settings)}


def _build(overrides: dict[str, Any]) -> Settings:
    values: dict[str, Any] = {}
    for name, raw in overrides.items():
        values[name] = _coerce(name, raw)
    return Settings(**values)


def _coerce(name: str, raw: Any) -> Any:
    if name == "check_enabled":
        merged = dict(DEFAULTS.check_enabled)
        merged.update({str(k): bool(v) for k, v in dict(raw).items()})
        return tuple(merged.items())
    if name in {"permitted_headers", "check_sequence", "allowed_country_codes"}:
        return tuple(str(item).strip() for item in raw)
    return int(raw)


def system_setting_validate(*, key: str, value: Any) -> Any:
    """The stored form of ``value`` for ``key``, or ApplicationError saying what is wrong.

    Each key's rules are in RULES (always) and PRODUCTION_RULES (outside debug: a
    development box may switch security checks off, a production one may not).
    """
    if key not in _field_names():
        raise ApplicationError(f"Unknown setting {key!r}.", code="unknown_setting")
    try:
        coerced = _coerce(key, value)
    except (TypeError, ValueError) as exc:
        raise ApplicationError(f"{key}: {exc}", code="invalid_setting") from exc
    rules = RULES.get(key, ()) + (() if settings.DEBUG else PRODUCTION_RULES.get(key, ()))
    for rule in rules:
        problem = rule(coerced, value)
        if problem:
            raise ApplicationError(f"{key}: {problem}", code="invalid_setting")
    if isinstance(coerced, int) and coerced < 0:
        raise ApplicationError(f"{key}: must not be negative.", code="invalid_setting")
    return value


# A rule takes (coerced value, value as given) and returns what is wrong, or None.
Rule = Callable[[Any, Any], str | None]


def _known_checks(coerced: tuple[str, ...], raw: Any) -> str | None:
    unknown = sorted(set(coerced) - set(CHECK_NAMES))
    if unknown:
        return f"unknown check(s) {', '.join(unknown)}; known: {', '.join(CHECK_NAMES)}."
    return None


def _no_check_twice(coerced: tuple[str, ...], raw: Any) -> str | None:
    return "a check is listed twice." if len(set(coerced)) != len(coerced) else None


def _known_switches(coerced: Any, raw: Any) -> str | None:
    unknown = sorted(set(dict(raw)) - set(CHECK_NAMES))
    return f"unknown check(s) {', '.join(unknown)}." if unknown else None


def _alphanumeric_headers(coerced: tuple[str, ...], raw: Any) -> str | None:
    ok = coerced and all(h.isalnum() for h in coerced)
    return None if ok else "give one or more alphanumeric headers."


def _runs_security_checks(coerced: tuple[str, ...], raw: Any) -> str | None:
    missing = [name for name in SECURITY_CHECKS if name not in coerced]
    if missing:
        return f"must keep the security check(s) {', '.join(missing)} (allowed only with DJANGO_DEBUG=1)."
    return None


def _enables_security_checks(coerced: tuple[tuple[str, bool], ...], raw: Any) -> str | None:
    switched_off = [name for name in SECURITY_CHECKS if not dict(coerced).get(name, False)]
    if switched_off:
        return f"must not disable {', '.join(switched_off)} (allowed only with DJANGO_DEBUG=1)."
    return None


def _long_enough_salt(coerced: int, raw: Any) -> str | None:
    if coerced < MIN_SALT_LENGTH:
        return f"must be at least {MIN_SALT_LENGTH} (shorter salts allowed only with DJANGO_DEBUG=1)."
    return None


RULES: dict[str, tuple[Rule, ...]] = {
    "check_sequence": (_known_checks, _no_check_twice),
    "check_enabled": (_known_switches,),
    "permitted_headers": (_alphanumeric_headers,),
}
PRODUCTION_RULES: dict[str, tuple[Rule, ...]] = {
    "check_sequence": (_runs_security_checks,),
    "check_enabled": (_enables_security_checks,),
    "salt_length": (_long_enough_salt,),
}


def system_setting_set(*, key: str, value: Any) -> SystemSetting:
    system_setting_validate(key=key, value=value)
    setting, _ = SystemSetting.objects.update_or_create(
        key=key, defaults={"value": value, "description": DESCRIPTIONS.get(key, "")}
    )
    system_settings_invalidate()
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
