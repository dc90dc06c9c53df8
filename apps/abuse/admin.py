"""Blacklist admin: every add and remove goes through the services, so Redis changes at once.

The BlacklistEntry table is the durable mirror of Redis ``blacklist_mobiles``, written
only by the blacklist drain. The admin never writes it directly: it calls
``blacklist_add`` / ``blacklist_remove`` (Redis at once, plus a queued action with the
operator as actor) and then queues the drain, so a worker stores the change right
after the request commits instead of at the next beat flush; the request itself never
waits for the drain.
"""

import logging
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.safestring import SafeString
from kombu.exceptions import OperationalError

from apps.core.admin import (
    MobileSearchMixin,
    ReadOnlyAdminMixin,
    breakable,
    confirm_first,
    csv_stream_response,
)
from apps.core.exceptions import ApplicationError
from apps.core.operator_log import actor_for_request
from apps.core.phone import Mobile, mobile_parse

from .models import BlacklistAction, BlacklistEntry
from .services import (
    ImportReport,
    blacklist_add,
    blacklist_csv_read,
    blacklist_import,
    blacklist_make_permanent,
    blacklist_mobile_parse,
    blacklist_remove,
)
from .tasks import blacklist_flush_task

logger = logging.getLogger(__name__)

SOURCE = "admin"
EXPORT_HEADER = ("mobile_number", "country_code", "source", "reason", "actor", "created_at", "expires_at")
INVALID_SHOWN = 5  # invalid import lines listed by number; the rest are only counted


class BlacklistAddForm(forms.Form):
    mobile_number = forms.CharField(
        max_length=32, help_text="Any format: 9876543210, +91 98765 43210, +14155550123."
    )
    reason = forms.CharField(max_length=255, required=False)

    def clean_mobile_number(self) -> Mobile:
        try:
            return blacklist_mobile_parse(self.cleaned_data["mobile_number"])
        except ApplicationError as exc:
            raise forms.ValidationError(exc.detail) from exc


class BlacklistImportForm(forms.Form):
    csv_file = forms.FileField(
        label="CSV file",
        help_text="UTF-8 with a header row: a mobile_number column and an optional reason column.",
    )

    def clean_csv_file(self) -> list[dict[str, str]]:
        try:
            return blacklist_csv_read(data=self.cleaned_data["csv_file"].read())
        except ApplicationError as exc:
            raise forms.ValidationError(exc.detail) from exc


def blacklist_drain_queue() -> None:
    """Queue the blacklist drain; a missing broker only delays it to beat's next flush."""
    try:
        blacklist_flush_task.apply_async(retry=False)
    except OperationalError as exc:
        logger.warning("could not queue the blacklist drain, beat will run it: %s", exc)


def _drain_after_commit() -> None:
    # On commit, as every task is queued: a request that fails queues nothing (beat's
    # flush still stores whatever reached Redis).
    transaction.on_commit(blacklist_drain_queue)


def _entry_mobile(entry: BlacklistEntry) -> Mobile:
    """The entry's number, keyed exactly as stored (``blacklist_remove`` removes that key).

    Parsed when possible; a key that no longer parses to itself (DEFAULT_REGION changed,
    numbering plan updated) is still removed under its stored form.
    """
    try:
        mobile = mobile_parse(entry.mobile, require_mobile=False)
    except ApplicationError:
        mobile = None
    if mobile is not None and mobile.key == entry.mobile:
        return mobile
    code = int(entry.country_code) if entry.country_code.isdigit() else 0
    return Mobile(key=entry.mobile, e164=entry.mobile, country_code=code, national=entry.mobile)


@admin.register(BlacklistEntry)
class BlacklistEntryAdmin(MobileSearchMixin, admin.ModelAdmin):
    list_display = ("mobile", "country", "source", "shown_reason", "shown_actor", "created_at", "expiry")
    list_filter = (
        "source",
        ("created_at", admin.DateFieldListFilter),
        ("expires_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("mobile",)
    actions = ["remove_from_blacklist", "make_permanent", "export_csv"]
    show_full_result_count = False

    def has_change_permission(self, request: HttpRequest, obj: BlacklistEntry | None = None) -> bool:
        return False  # an entry is added or removed, never edited

    def has_make_permanent_permission(self, request: HttpRequest) -> bool:
        return self.has_add_permission(request)  # who may blacklist a number may keep it blacklisted

    @admin.display(description="expires", ordering="expires_at")
    def expiry(self, entry: BlacklistEntry) -> str:
        if entry.expires_at is None:
            return "never (permanent)"
        return entry.expires_at.strftime("%Y-%m-%d %H:%M UTC")

    @admin.display(description="country", ordering="country_code")
    def country(self, entry: BlacklistEntry) -> str:
        return entry.country_code

    @admin.display(description="reason", ordering="reason")
    def shown_reason(self, entry: BlacklistEntry) -> SafeString:
        return breakable(entry.reason)

    @admin.display(description="actor", ordering="actor")
    def shown_actor(self, entry: BlacklistEntry) -> SafeString:
        return breakable(entry.actor)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # "remove from blacklist" is the one way out
        return actions

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.import_view)
        name = f"{self.opts.app_label}_{self.opts.model_name}_import"
        return [path("import/", view, name=name), *super().get_urls()]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = BlacklistAddForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            mobile = form.cleaned_data["mobile_number"]
            added = blacklist_add(
                mobile=mobile,
                source=SOURCE,
                reason=form.cleaned_data["reason"],
                actor=actor_for_request(request),
            )
            _drain_after_commit()
            if added:
                self.message_user(request, f"{mobile.key} is blacklisted.", messages.SUCCESS)
            else:
                self.message_user(request, f"{mobile.key} was already blacklisted.", messages.WARNING)
            return HttpResponseRedirect(self._changelist_url())
        return self._form_page(request, form, title="Blacklist a number", submit_label="Blacklist")

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = BlacklistImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            rows = form.cleaned_data["csv_file"]
            report = blacklist_import(rows=rows, source=SOURCE, actor=actor_for_request(request))
            _drain_after_commit()
            self._report_import(request, report)
            return HttpResponseRedirect(self._changelist_url())
        intro = "Each valid number is blacklisted at once with source 'admin'; numbers already listed are skipped."
        return self._form_page(
            request, form, title="Import numbers to blacklist", submit_label="Import", intro=intro
        )

    def delete_model(self, request: HttpRequest, obj: BlacklistEntry) -> None:
        blacklist_remove(mobile=_entry_mobile(obj), source=SOURCE, actor=actor_for_request(request))
        _drain_after_commit()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[BlacklistEntry]) -> None:
        actor = actor_for_request(request)
        for entry in queryset:
            blacklist_remove(mobile=_entry_mobile(entry), source=SOURCE, actor=actor)
        _drain_after_commit()

    @admin.action(description="Remove selected numbers from the blacklist", permissions=["delete"])
    @confirm_first(
        question="Remove these numbers from the blacklist? They may register and verify again at once."
    )
    def remove_from_blacklist(self, request: HttpRequest, queryset: QuerySet[BlacklistEntry]) -> None:
        count = queryset.count()
        self.delete_queryset(request, queryset)
        self.message_user(request, f"Removed {count} number(s) from the blacklist.", messages.SUCCESS)

    @admin.action(
        description="Make selected entries permanent (they no longer lapse)", permissions=["make_permanent"]
    )
    def make_permanent(self, request: HttpRequest, queryset: QuerySet[BlacklistEntry]) -> None:
        entries = list(queryset.filter(expires_at__isnull=False))
        changed = blacklist_make_permanent(
            mobiles=[e.mobile for e in entries], actor=actor_for_request(request)
        )
        for entry in entries:
            self.log_change(request, entry, "Made permanent (no longer lapses).")
        self.message_user(request, f"Made {changed} entries permanent.", messages.SUCCESS)

    @admin.action(description="Export selected entries as CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[BlacklistEntry]) -> StreamingHttpResponse:
        rows = (
            (
                *(e.mobile, e.country_code, e.source, e.reason, e.actor, e.created_at.isoformat()),
                e.expires_at.isoformat() if e.expires_at else "",
            )
            for e in queryset.iterator(chunk_size=2000)
        )
        return csv_stream_response(filename="blacklist.csv", header=EXPORT_HEADER, rows=rows)

    def _report_import(self, request: HttpRequest, report: ImportReport) -> None:
        self.message_user(
            request,
            f"Import done: {report.added} added, {report.skipped} skipped (already blacklisted), "
            f"{len(report.invalid)} invalid.",
            messages.SUCCESS if not report.invalid else messages.WARNING,
        )
        if report.invalid:
            shown = "; ".join(report.invalid[:INVALID_SHOWN])
            more = (
                f" (and {len(report.invalid) - INVALID_SHOWN} more)"
                if len(report.invalid) > INVALID_SHOWN
                else ""
            )
            self.message_user(request, f"Invalid: {shown}{more}", messages.WARNING)

    def _form_page(self, request: HttpRequest, form: forms.Form, **context: Any) -> TemplateResponse:
        context = {**self.admin_site.each_context(request), "opts": self.opts, "form": form, **context}
        return TemplateResponse(request, "admin/smsbridge/form.html", context)

    def _changelist_url(self) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")


@admin.register(BlacklistAction)
class BlacklistActionAdmin(MobileSearchMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The history: every add and remove with who did it, as drained from ``blacklist_queue``."""

    list_display = ("occurred_at", "action", "mobile", "source", "reason", "actor")
    list_filter = ("action", "source", ("occurred_at", admin.DateFieldListFilter))
    search_fields = ("mobile", "actor")
    show_full_result_count = False
