"""The audit trail: monitor events, read-only, filterable, exportable as CSV.

The table grows by every verdict and registration, so the list avoids whole-table
work: no full result count, a number search that hits the index, a streamed export.
"""

import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db import connection
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast
from django.http import HttpRequest, StreamingHttpResponse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from apps.clients.models import Client
from apps.core.admin import MobileSearchMixin, ReadOnlyAdminMixin, csv_stream_response
from apps.core.system_settings import CHECK_NAMES
from apps.inbound.models import Gateway

from .models import MonitorEvent

# Result codes per check: 0 not run, 1 pass, 2 fail, 3 skipped.
CHECK_MARKS = {0: "–", 1: "✓", 2: "✗", 3: "skip"}  # noqa: RUF001 - an en dash reads as "not run"
EXPORT_HEADER = (
    "occurred_at",
    "event_id",
    "status",
    "reason",
    "mobile",
    "country_code",
    "sms_uuid",
    "gateway_id",
    "client_ids",
    *(f"check_{name}" for name in CHECK_NAMES),
)


def checks_summary(results: dict[str, int]) -> str:
    """One line of CHECK_MARKS, ``mobile ✓ · foreign_number ✓ · blacklist ✗ ...``; empty if none ran.

    Checks are listed in CHECK_NAMES order: PostgreSQL's jsonb does not keep key order.
    """
    if not results:
        return ""
    names = [*CHECK_NAMES, *sorted(set(results) - set(CHECK_NAMES))]
    return " · ".join(f"{name} {CHECK_MARKS.get(results.get(name, 0), '?')}" for name in names)


class GatewayFilter(admin.SimpleListFilter):
    title = "gateway"
    parameter_name = "gateway"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(g.id), str(g)) for g in Gateway.objects.all()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[MonitorEvent]) -> QuerySet[MonitorEvent]:
        return queryset.filter(gateway_id=self.value()) if self.value() else queryset


class ClientFilter(admin.SimpleListFilter):
    """Events that concern a client.

    PostgreSQL tests JSON containment (which an index can serve); SQLite, which has no
    JSON containment, matches the quoted id in the column's JSON text.
    """

    title = "client"
    parameter_name = "client"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(c.id), c.name) for c in Client.objects.all()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[MonitorEvent]) -> QuerySet[MonitorEvent]:
        client_id = self.value()
        if not client_id:
            return queryset
        if connection.vendor == "postgresql":
            return queryset.filter(client_ids__contains=[client_id])
        as_text = Cast("client_ids", output_field=TextField())
        return queryset.annotate(client_ids_text=as_text).filter(client_ids_text__contains=f'"{client_id}"')


def gateway_names(ids: Iterable[str]) -> dict[str, str]:
    """Gateway id (as events store it) -> name, in one query; ids that are no UUID are left out."""
    wanted = set()
    for raw in ids:
        try:
            wanted.add(uuid.UUID(raw))
        except ValueError:
            continue
    return {str(pk): name for pk, name in Gateway.objects.filter(pk__in=wanted).values_list("pk", "name")}


class MonitorEventChangeList(ChangeList):
    """Names the gateways of the page's events with one query (events keep the id only)."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        names = gateway_names(e.gateway_id for e in self.result_list if e.gateway_id)
        for event in self.result_list:
            event.gateway_name = names.get(event.gateway_id, "")


@admin.register(MonitorEvent)
class MonitorEventAdmin(MobileSearchMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("occurred_at", "status", "reason", "mobile", "checks", "gateway")
    list_filter = (
        "status",
        "reason",
        ("occurred_at", admin.DateFieldListFilter),
        GatewayFilter,
        ClientFilter,
    )
    search_fields = ("mobile", "=sms_uuid")
    actions = ["export_csv"]
    show_full_result_count = False
    list_per_page = 50
    readonly_fields = ("checks", "gateway", "clients")

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return MonitorEventChangeList

    @admin.display(description="checks")
    def checks(self, obj: MonitorEvent) -> SafeString | str:
        """The summary, wrapping between checks only, never inside ``foreign_number ✓``."""
        if not obj.check_results:
            return ""
        tokens = checks_summary(obj.check_results).split(" · ")
        return format_html_join(" · ", '<span style="white-space: nowrap">{}</span>', ((t,) for t in tokens))

    @admin.display(description="gateway", ordering="gateway_id")
    def gateway(self, obj: MonitorEvent) -> SafeString | str:
        """The gateway's name, its id on hover; a deleted gateway shows the id's first block."""
        if not obj.gateway_id:
            return ""
        name = getattr(obj, "gateway_name", None)
        if name is None:  # the detail page: one event, one query
            name = gateway_names([obj.gateway_id]).get(obj.gateway_id, "")
        return format_html('<span title="{}">{}</span>', obj.gateway_id, name or f"{obj.gateway_id[:8]}…")

    @admin.display(description="clients")
    def clients(self, obj: MonitorEvent) -> str:
        """The clients' names (the ids are in client_ids below)."""
        ids = [i for i in obj.client_ids if _is_uuid(i)]
        names = dict(Client.objects.filter(pk__in=ids).values_list("pk", "name"))
        return ", ".join(names.get(uuid.UUID(i), f"{i[:8]}…") for i in ids) or "-"

    @admin.action(description="Export selected events as CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[MonitorEvent]) -> StreamingHttpResponse:
        return csv_stream_response(filename="monitor_events.csv", header=EXPORT_HEADER, rows=_rows(queryset))


def _is_uuid(raw: str) -> bool:
    try:
        uuid.UUID(str(raw))
    except ValueError:
        return False
    return True


def _rows(queryset: QuerySet[MonitorEvent]) -> Iterator[tuple[Any, ...]]:
    for e in queryset.iterator(chunk_size=2000):
        codes = [e.check_results.get(name, 0) for name in CHECK_NAMES]
        yield (
            e.occurred_at.isoformat(),
            e.event_id,
            e.status,
            e.reason,
            e.mobile,
            e.country_code,
            e.sms_uuid,
            e.gateway_id,
            " ".join(e.client_ids),
            *codes,
        )
