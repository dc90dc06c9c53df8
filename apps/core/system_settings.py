"""System settings: defaults in code, overrides in the SystemSetting table.

Reads are hot-path: a process keeps its copy for SYSTEM_SETTINGS_LOCAL_CACHE_SECONDS,
then asks the django-redis cache, and only on a cache miss the database. A write goes
through ``system_setting_set``, which validates the value and drops the cached copy.
With the database down, the cached or default values keep the hot path serving.
"""

import logging
import time
from dataclasses import dataclass, fields
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, InterfaceError

from .exceptions import ApplicationError
from .models import SystemSetting

logger = logging.getLogger(__name__)

CHECK_NAMES = ("mobile", "foreign_number", "blacklist", "duplicate", "header_hash", "time_window")
CACHE_KEY = "system_settings:v1"


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
}

_local: dict[str, Any] = {"value": None, "at": 0.0}


def system_settings_get() -> Settings:
    now = time.monotonic()
    cached = _local["value"]
    if cached is not None and now - _local["at"] < settings.SYSTEM_SETTINGS_LOCAL_CACHE_SECONDS:
        return cached
    value = cache.get(CACHE_KEY)
    if not isinstance(value, Settings):
        value = _load_from_database()
        cache.set(CACHE_KEY, value, timeout=None)
    _local.update(value=value, at=now)
    return value


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
    """The stored form of ``value`` for ``key``, or ApplicationError saying what is wrong."""
    if key not in _field_names():
        raise ApplicationError(f"Unknown setting {key!r}.", code="unknown_setting")
    try:
        coerced = _coerce(key, value)
    except (TypeError, ValueError) as exc:
        raise ApplicationError(f"{key}: {exc}", code="invalid_setting") from exc
    if key == "check_sequence":
        unknown = sorted(set(coerced) - set(CHECK_NAMES))
        if unknown:
            raise ApplicationError(
                f"check_sequence: unknown check(s) {', '.join(unknown)}; known: {', '.join(CHECK_NAMES)}.",
                code="invalid_setting",
            )
        if len(set(coerced)) != len(coerced):
            raise ApplicationError("check_sequence: a check is listed twice.", code="invalid_setting")
    if key == "check_enabled":
        unknown = sorted(set(dict(value)) - set(CHECK_NAMES))
        if unknown:
            raise ApplicationError(
                f"check_enabled: unknown check(s) {', '.join(unknown)}.", code="invalid_setting"
            )
    if key == "permitted_headers" and (not coerced or not all(h.isalnum() for h in coerced)):
        raise ApplicationError(
            "permitted_headers: give one or more alphanumeric headers.", code="invalid_setting"
        )
    if isinstance(coerced, int) and coerced < 0:
        raise ApplicationError(f"{key}: must not be negative.", code="invalid_setting")
    return value


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
    rows = []
    for f in fields(Settings):
        value = getattr(DEFAULTS, f.name)
        if f.name == "check_enabled":
            value = dict(value)
        elif isinstance(value, tuple):
            value = list(value)
        rows.append((f.name, value, DESCRIPTIONS.get(f.name, "")))
    return rows
