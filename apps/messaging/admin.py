"""Notifications and the console outbox, read-only: notifications are created through the API.

The one change an operator makes is *Retry* on failed notifications, which goes through
``notification_retry`` (Redis first, where the live record is; the list follows once
the store has written the change). Destinations are masked in the list, which is read
over shoulders; the detail page has them in full.
"""

import uuid
from datetime import datetime
from typing import Any

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from apps.core.admin import ReadOnlyAdminMixin, breakable, confirm_first
from apps.core.exceptions import ApplicationError
from apps.core.logging import mask_mobiles
from apps.core.operator_log import actor_for_request

from .models import Notification, OutboxMessage
from .services.retry import BODY_NOT_STORED, notification_retry

ERROR_SHOWN = 60  # characters of the last error in the list; the detail page has it all
BODY_SHOWN = 300  # characters of an outbox body in the list (an SMS fits whole)
EMAIL_KEPT = 1  # characters of an address's local part shown in the list


def _short_time(value: datetime | None) -> SafeString | str:
    """``01 Dec 08:15``, the full time on hover: half the width of the admin's default format."""
    if value is None:
        return "-"
    shown = timezone.localtime(value).strftime("%d %b %H:%M")
    return format_html('<span title="{}">{}</span>', value.isoformat(), shown)


def _shortened(text: str, limit: int) -> SafeString:
    return breakable(text if len(text) <= limit else text[: limit - 1] + "…")


def destination_masked(to: str) -> str:
    """``+********3210`` or ``j***@example.com``: enough to tell destinations apart."""
    local, at, domain = to.rpartition("@")
    if at:
        return f"{local[:EMAIL_KEPT]}***@{domain}"
    return mask_mobiles(to)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # Short columns and cells that may break: the list fits a 1280 px screen beside the filters.
    list_display = (
        "created",
        "shown_client",
        "channel",
        "destination",
        "status",
        "tries",
        "shown_gateway",
        "short_error",
    )
    list_filter = ("status", "channel", "gateway", "client")
    list_select_related = ("client", "gateway")
    search_fields = ("provider_message_id",)  # see get_search_results: exact ids only
    search_help_text = "A notification id or a provider's message id, exactly."
    show_full_result_count = False
    actions = ["retry"]
    fields = (
        "id",
        "client",
        "channel",
        "to",
        "subject",
        "shown_body",
        "status",
        "attempts",
        "last_error",
        "gateway",
        "provider_message_id",
        "idempotency_key",
        "seq",
        "created_at",
        "updated_at",
    )
    readonly_fields = ("shown_body",)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Notification], search_term: str
    ) -> tuple[QuerySet[Notification], bool]:
        """Exact matches on indexed ids: a substring search would scan the whole table, and
        a term that is not a UUID must not reach the id column (the database refuses it)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            by_id = Q(id=uuid.UUID(term))
        except ValueError:
            by_id = Q(pk__in=[])
        return queryset.filter(by_id | Q(provider_message_id=term)), False

    @admin.display(description="created", ordering="created_at")
    def created(self, obj: Notification) -> SafeString | str:
        return _short_time(obj.created_at)

    @admin.display(description="client", ordering="client__name")
    def shown_client(self, obj: Notification) -> SafeString:
        return breakable(obj.client.name)

    @admin.display(description="to")
    def destination(self, obj: Notification) -> SafeString:
        return breakable(destination_masked(obj.to))

    @admin.display(description="tries", ordering="attempts")
    def tries(self, obj: Notification) -> int:
        return obj.attempts

    @admin.display(description="gateway", ordering="gateway__name")
    def shown_gateway(self, obj: Notification) -> SafeString | str:
        return breakable(obj.gateway.name) if obj.gateway else "-"

    @admin.display(description="last error")
    def short_error(self, obj: Notification) -> SafeString:
        return _shortened(obj.last_error, ERROR_SHOWN)

    @admin.display(description="body")
    def shown_body(self, obj: Notification) -> str:
        if obj.body_redacted:
            return "(not stored: it held a one-time code, so it cannot be re-sent either)"
        return obj.body

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("messaging.change_notification")

    @admin.action(
        description="Retry selected failed notifications (fresh set of attempts)", permissions=["retry"]
    )
    @confirm_first(
        question="Send these notifications again? Each failed one goes back on the queue with a fresh "
        "set of attempts, so its recipient may get it twice if an earlier attempt did arrive.",
        consequence="Notifications that did not fail are left alone. One-time codes cannot be re-sent: "
        "their body was never stored.",
    )
    def retry(self, request: HttpRequest, queryset: QuerySet[Notification]) -> HttpResponse | None:
        actor = actor_for_request(request)
        retried, codes = [], 0
        for notification in queryset.select_related("client"):
            try:
                if notification_retry(notification=notification, actor=actor):
                    retried.append(notification)
            except ApplicationError as exc:
                if exc.code != BODY_NOT_STORED:
                    raise
                codes += 1
        for notification in retried:
            self.log_change(request, notification, "Retried (queued again with a fresh set of attempts).")
        self._report(
            request, retried=len(retried), codes=codes, skipped=queryset.count() - len(retried) - codes
        )
        return None

    def _report(self, request: HttpRequest, *, retried: int, codes: int, skipped: int) -> None:
        note = f"; {skipped} not failed, left alone" if skipped else ""
        self.message_user(
            request,
            f"Queued {retried} notification(s) again{note}. The list shows them as queued once "
            "the change is stored, within seconds.",
            messages.SUCCESS,
        )
        if codes:
            self.message_user(
                request,
                f"{codes} one-time code notification(s) cannot be re-sent: their body was never "
                "stored. Their clients must request new codes.",
                messages.WARNING,
            )


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What console gateways "sent", bodies and all: the development outbox, where a developer
    reads the one-time code that would have gone out. Nothing here left the machine."""

    list_display = ("created", "channel", "to_shown", "subject_shown", "body_shown")
    list_filter = ("channel", "gateway")
    search_fields = ("to", "subject")
    fields = ("notification_id", "gateway", "channel", "to", "subject", "body", "created_at")

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        return super().changelist_view(request, {"title": "Console outbox", **(extra_context or {})})

    @admin.display(description="created", ordering="created_at")
    def created(self, obj: OutboxMessage) -> SafeString | str:
        return _short_time(obj.created_at)

    @admin.display(description="to", ordering="to")
    def to_shown(self, obj: OutboxMessage) -> SafeString:
        return breakable(obj.to)

    @admin.display(description="subject")
    def subject_shown(self, obj: OutboxMessage) -> SafeString | str:
        return breakable(obj.subject) if obj.subject else "-"

    @admin.display(description="body")
    def body_shown(self, obj: OutboxMessage) -> SafeString:
        return _shortened(obj.body, BODY_SHOWN)
