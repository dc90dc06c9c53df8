"""Admin for system settings and the operator log, and the pieces every app's admin shares.

The shared pieces: the site's titles, a search that finds a number however the operator
types it, a streaming CSV export, and the "Are you sure?" page of destructive actions.
The index with its dashboard link belongs to apps.operations.
"""

import csv
import functools
import itertools
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from .exceptions import ApplicationError
from .models import OperatorAction, SystemSetting
from .operator_log import actor_for_request
from .phone import mobile_parse
from .system_settings import DEFAULTS, DESCRIPTIONS, system_setting_set, system_setting_validate

admin.site.site_header = "SMS Bridge administration"
admin.site.site_title = "SMS Bridge admin"
admin.site.index_title = "Operations"
# No navigation sidebar: beside a list's filters it left the audit and callbacks tables
# under 650 px at a 1280 px screen, clipping their columns. The index and breadcrumbs
# lead everywhere the sidebar did.
admin.site.enable_nav_sidebar = False


# --- shared: search by number -------------------------------------------------------------
class MobileSearchMixin:
    """A search term that is a phone number matches its normalized key exactly.

    Operators paste numbers as "+91 98765 43210" or "098765 43210"; the tables hold the
    key form (DESIGN.md). An exact match also uses the column's index, where the
    admin's default icontains scans the whole table. Other terms search as usual.
    """

    mobile_field = "mobile"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        try:
            mobile = mobile_parse(search_term, require_mobile=False)
        except ApplicationError:
            return super().get_search_results(request, queryset, search_term)  # type: ignore[misc]
        return queryset.filter(**{self.mobile_field: mobile.key}), False


# --- shared: list columns that fit the screen ---------------------------------------------------
def breakable(text: str) -> SafeString:
    """Text a table cell may break anywhere: a long error or URL must not widen the list
    past the screen (the table's narrowest width is its longest unbreakable word)."""
    return format_html('<span style="overflow-wrap: anywhere">{}</span>', text)


# --- shared: CSV export -----------------------------------------------------------------
_FORMULA_START = ("=", "@", "\t", "\r")
_SIGNED_NUMBER = re.compile(r"[+-][\d ]*")


class _Echo:
    """A write() that hands the line back, so csv.writer can feed a generator."""

    def write(self, value: str) -> str:
        return value


def _csv_safe(value: object) -> object:
    """Neutralise spreadsheet formulas in free text (reasons come from outside).

    Numbers such as "+14155550123" stay as they are, so an export can be imported again.
    """
    if not isinstance(value, str):
        return value
    formula = value.startswith(_FORMULA_START) or (
        value.startswith(("+", "-")) and not _SIGNED_NUMBER.fullmatch(value)
    )
    return "'" + value if formula else value


def csv_stream_response(
    *, filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> StreamingHttpResponse:
    """Stream rows as CSV: an export of millions of events never sits in memory."""
    writer = csv.writer(_Echo())
    lines = itertools.chain(
        [writer.writerow(header)], (writer.writerow([_csv_safe(v) for v in row]) for row in rows)
    )
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- shared: confirm a destructive action ------------------------------------------------
CONFIRM_SHOWN = 50  # objects named on the confirmation page; the rest are counted
AdminAction = Callable[[Any, HttpRequest, QuerySet[Any]], HttpResponse | None]


def confirm_first(*, question: str, consequence: str = "") -> Callable[[AdminAction], AdminAction]:
    """Make a bulk action ask "Are you sure?" on a page of its own, as Django's bulk delete does.

    The action runs only when that page posts back with ``post=yes``; the first post
    (from the list's action menu) changes nothing. Put it under ``@admin.action``.
    """

    def decorate(action: AdminAction) -> AdminAction:
        @functools.wraps(action)
        def confirmed(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
            if request.POST.get("post") == "yes":
                return action(modeladmin, request, queryset)
            return _confirmation_page(
                modeladmin,
                request,
                queryset,
                action_name=action.__name__,
                question=question,
                consequence=consequence,
            )

        return confirmed

    return decorate


def _confirmation_page(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any], *, action_name: str, **text: str
) -> TemplateResponse:
    opts = modeladmin.model._meta
    count = queryset.count()
    shown = list(queryset[:CONFIRM_SHOWN])
    select_across = request.POST.get("select_across") == "1"
    # Across all pages, the list's filters (in the URL this page posts back to) select the
    # rows again; Django still wants some ids posted, so the shown ones go along.
    selected = [obj.pk for obj in shown] if select_across else list(queryset.values_list("pk", flat=True))
    context = {
        **modeladmin.admin_site.each_context(request),
        **text,
        "title": "Are you sure?",
        "opts": opts,
        "count": count,
        "objects_name": opts.verbose_name if count == 1 else opts.verbose_name_plural,
        "shown": shown,
        "more": max(0, count - CONFIRM_SHOWN),
        "select_across": select_across,
        "selected": selected,
        "action_name": action_name,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": modeladmin.media,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, "admin/smsbridge/action_confirmation.html", context)


class ReadOnlyAdminMixin:
    """Rows written only by the bridge itself (drains, services): operators look, never edit."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


# --- system settings ------------------------------------------------------------------------
class SystemSettingForm(forms.ModelForm):
    class Meta:
        model = SystemSetting
        fields = ["value"]
        help_texts = {"value": 'JSON: a number, a list such as ["mobile", "blacklist"], or an object.'}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "value" in cleaned:
            try:
                system_setting_validate(key=self.instance.key, value=cleaned["value"])
            except ApplicationError as exc:
                self.add_error("value", exc.detail)
        return cleaned


@admin.register(SystemSetting)
class SystemSettingAdmin(admin.ModelAdmin):
    """Every setting exists from the data migration; operators change values only.

    Saving goes through ``system_setting_set``, which validates again and drops the
    cached copy, so workers and web processes see the new value within seconds.
    """

    form = SystemSettingForm
    list_display = ("key", "value_json", "description", "updated_at")
    search_fields = ("key",)
    fields = ("key", "description", "value", "default_value", "updated_at")
    readonly_fields = ("key", "description", "default_value", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: SystemSetting | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: SystemSetting, form: forms.Form, change: bool) -> None:
        saved = system_setting_set(key=obj.key, value=obj.value, actor=actor_for_request(request))
        obj.description, obj.updated_at = saved.description, saved.updated_at

    @admin.display(description="value")
    def value_json(self, obj: SystemSetting) -> str:
        return json.dumps(obj.value)

    @admin.display(description="description")
    def description(self, obj: SystemSetting) -> str:
        return obj.description or DESCRIPTIONS.get(obj.key, "")

    @admin.display(description="default")
    def default_value(self, obj: SystemSetting) -> str:
        defaults = asdict(DEFAULTS)
        if obj.key not in defaults:
            return "-"
        value = defaults[obj.key]
        return json.dumps(dict(value) if obj.key == "check_enabled" else value)


# --- operator log ----------------------------------------------------------------------------
@admin.register(OperatorAction)
class OperatorActionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who changed what: written by the services, in the transaction of each change."""

    list_display = ("at", "shown_actor", "source", "action", "shown_object", "shown_summary")
    list_filter = ("action", "source", "actor")
    search_fields = ("actor", "action", "object_label", "=object_id", "summary")
    date_hierarchy = "at"
    show_full_result_count = False
    fields = (
        "at",
        "actor",
        "source",
        "action",
        "object_type",
        "object_id",
        "object_label",
        "summary",
        "changes_table",
    )
    readonly_fields = ("changes_table",)

    @admin.display(description="actor", ordering="actor")
    def shown_actor(self, obj: OperatorAction) -> SafeString:
        return breakable(obj.actor)

    @admin.display(description="object", ordering="object_label")
    def shown_object(self, obj: OperatorAction) -> SafeString:
        return breakable(obj.object_label)

    @admin.display(description="summary")
    def shown_summary(self, obj: OperatorAction) -> SafeString:
        return breakable(obj.summary)

    @admin.display(description="changes")
    def changes_table(self, obj: OperatorAction) -> SafeString | str:
        if not obj.changes:
            return "-"
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td><td>{}</td></tr>",
            ((name, json.dumps(c.get("old")), json.dumps(c.get("new"))) for name, c in obj.changes.items()),
        )
        return format_html("<table><tr><th></th><th>old</th><th>new</th></tr>{}</table>", rows)
