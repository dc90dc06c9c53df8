"""The six validation checks of the pipeline, run in ``check_sequence`` order.

Each check is a pure function of one SMS's context: the Redis state it needs was
fetched for the whole batch in one round trip before any check runs.
"""

import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ImproperlyConfigured

from apps.core.phone import Mobile
from apps.core.system_settings import CHECK_NAMES, Settings
from apps.inbound.payloads import InboundSmsRecord

from .registration import StoredRegistration

NOT_RUN, PASS, FAIL, SKIPPED = 0, 1, 2, 3
BODY_PATTERN = re.compile(r"^\s*([A-Za-z0-9]+)\s*:\s*([0-9a-fA-F]{64})\s*$")


@dataclass
class SmsContext:
    sms: InboundSmsRecord
    key: str  # normalized number, or the raw sender when it does not parse
    mobile: Mobile | None
    received_at: datetime
    now: float
    blacklisted: bool = False
    verified: bool = False
    registrations: list[StoredRegistration] = field(default_factory=list)  # newest first
    abuse_count: int = 0  # the number's abuse counter before this batch

    def pending(self) -> list[StoredRegistration]:
        return [reg for reg in self.registrations if reg.is_pending(self.now * 1000)]

    def claimed(self, config: Settings) -> StoredRegistration | None:
        """The pending registration whose hash the body carries, if any.

        The hash was computed for this sender's number with a fresh salt, so an SMS from
        another phone, or carrying another registration's hash, claims nothing. Every
        pending hash (a handful at most) is compared, so timing tells nothing.
        """
        match = BODY_PATTERN.match(self.sms.sms_message)
        if match is None or match.group(1).upper() not in {h.upper() for h in config.permitted_headers}:
            return None
        sent_hash = match.group(2).lower()
        found = [reg for reg in self.pending() if hmac.compare_digest(sent_hash, reg.hash)]
        return found[0] if found else None

    def completes(self, config: Settings) -> StoredRegistration | None:
        """The registration a valid verdict completes: the claimed one; with header_hash
        switched off (allowed in debug only), the newest pending one."""
        if config.is_enabled("header_hash"):
            return self.claimed(config)
        pending = self.pending()
        return pending[0] if pending else None


Check = Callable[[SmsContext, Settings], bool]


def mobile_check(ctx: SmsContext, config: Settings) -> bool:
    return ctx.mobile is not None


def foreign_number_check(ctx: SmsContext, config: Settings) -> bool:
    return ctx.mobile is not None and str(ctx.mobile.country_code) in config.allowed_country_codes


def blacklist_check(ctx: SmsContext, config: Settings) -> bool:
    return not ctx.blacklisted


def duplicate_check(ctx: SmsContext, config: Settings) -> bool:
    return not ctx.verified


def header_hash_check(ctx: SmsContext, config: Settings) -> bool:
    return ctx.claimed(config) is not None


def time_window_check(ctx: SmsContext, config: Settings) -> bool:
    sent = ctx.received_at.timestamp()
    if ctx.now - sent > config.time_window_seconds:
        return False  # stale
    if sent - ctx.now > config.clock_skew_seconds:
        return False  # from the future
    claimed = ctx.claimed(config)
    if claimed is not None and sent * 1000 > claimed.expires_at_ms:
        return False  # after the registration expired
    return True


CHECKS: dict[str, Check] = {
    "mobile": mobile_check,
    "foreign_number": foreign_number_check,
    "blacklist": blacklist_check,
    "duplicate": duplicate_check,
    "header_hash": header_hash_check,
    "time_window": time_window_check,
}
# The names are core's: system settings order, enable and validate checks by CHECK_NAMES.
# A check added here and not there (or the reverse) fails at import, not at the first SMS.
if tuple(CHECKS) != CHECK_NAMES:
    raise ImproperlyConfigured(f"CHECKS {tuple(CHECKS)} must match CHECK_NAMES {CHECK_NAMES}, in order")


@dataclass(frozen=True)
class Verdict:
    valid: bool
    failed_check: str
    results: dict[str, int]


def checks_run(ctx: SmsContext, config: Settings) -> Verdict:
    """Run the enabled checks in ``check_sequence`` order, stopping at the first failure."""
    results = dict.fromkeys(CHECKS, NOT_RUN)
    for name in config.check_sequence:
        if not config.is_enabled(name):
            results[name] = SKIPPED
            continue
        passed = CHECKS[name](ctx, config)
        results[name] = PASS if passed else FAIL
        if not passed:
            return Verdict(valid=False, failed_check=name, results=results)
    return Verdict(valid=True, failed_check="", results=results)
