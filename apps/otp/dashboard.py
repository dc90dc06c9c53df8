"""The OTP panel of the operator dashboard: requested vs verified, and the blocked prefixes.

The figures come from the monitor events in PostgreSQL (drained from Redis within
seconds), the blocked prefixes from Redis, live; each blocked prefix has a "lift" button
(admin.py's view). Redis or the database being down shows a notice in the panel.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from django.db import DatabaseError
from django.db.models import Count
from django.db.models.functions import TruncHour
from django.utils import timezone

from apps.audit.models import MonitorEvent
from apps.clients.models import Client
from apps.core.registry import Panel

from .selectors import otp_blocked_prefixes
from .services.guard import BlockedPrefix

TEMPLATE = "otp/dashboard_panel.html"
HOURS = 24
REQUESTED, VERIFIED = "otp_requested", "otp_verified"


@dataclass(frozen=True)
class Conversion:
    label: str  # an hour (local time) or a country code
    requested: int
    verified: int

    @property
    def percent(self) -> int | None:
        return round(100 * self.verified / self.requested) if self.requested else None


@dataclass(frozen=True)
class ShownPrefix:
    blocked: BlockedPrefix
    client_name: str
    until: datetime


@dataclass(frozen=True)
class OtpFigures:
    hours: list[Conversion]  # oldest first
    countries: list[Conversion]  # most requested first
    blocked: list[ShownPrefix]


def otp_figures(*, now: datetime | None = None) -> OtpFigures:
    end = timezone.localtime(now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=HOURS - 1)
    events = MonitorEvent.objects.filter(occurred_at__gte=start, status__in=[REQUESTED, VERIFIED]).order_by()
    per_hour = {
        (hour, status): n
        for hour, status, n in events.annotate(hour=TruncHour("occurred_at"))
        .values_list("hour", "status")
        .annotate(n=Count("id"))
    }
    per_country: dict[str, dict[str, int]] = {}
    for country, status, n in events.values_list("country_code", "status").annotate(n=Count("id")):
        per_country.setdefault(country, {})[status] = n
    slots = [start + timedelta(hours=i) for i in range(HOURS)]
    return OtpFigures(
        hours=[
            Conversion(f"{s:%H:00}", per_hour.get((s, REQUESTED), 0), per_hour.get((s, VERIFIED), 0))
            for s in slots
        ],
        countries=sorted(
            (Conversion(f"+{c}", n.get(REQUESTED, 0), n.get(VERIFIED, 0)) for c, n in per_country.items()),
            key=lambda row: -row.requested,
        ),
        blocked=_shown(otp_blocked_prefixes()),
    )


def _shown(blocked: list[BlockedPrefix]) -> list[ShownPrefix]:
    ids = {b.client_id for b in blocked}
    names = {
        str(pk): name for pk, name in Client.objects.filter(pk__in=_uuids(ids)).values_list("id", "name")
    }
    return [
        ShownPrefix(b, names.get(b.client_id, f"client {b.client_id[:8]}"), _moment(b.until_ms))
        for b in blocked
    ]


def _uuids(ids: set[str]) -> list[str]:
    valid = []
    for text in ids:
        try:
            valid.append(str(uuid.UUID(text)))
        except ValueError:
            continue
    return valid


def _moment(epoch_ms: int) -> datetime:
    return timezone.localtime(datetime.fromtimestamp(epoch_ms / 1000, tz=timezone.get_current_timezone()))


def otp_panel() -> Panel:
    try:
        figures, error = otp_figures(), ""
    except (redis.RedisError, DatabaseError) as exc:
        figures, error = None, f"OTP figures unavailable: {exc}"
    return Panel(title="One-time passwords", template=TEMPLATE, context={"figures": figures, "error": error})
