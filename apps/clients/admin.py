"""Clients, their API keys and their callbacks.

API keys are stored as SHA-256 only: the admin shows a new key once, in the message
after it is created, and never again; so is the webhook secret (encrypted at rest),
of which the pages show only the last characters. Keys are created and revoked, and
clients deactivated, through the services, which also update the Redis directory the
hot path authenticates from.
"""

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from apps.core.admin import ReadOnlyAdminMixin, breakable, confirm_first
from apps.core.crypto import secret_hint
from apps.core.exceptions import ApplicationError
from apps.core.operator_log import actor_for_request

from .models import ApiKey, CallbackDelivery, Client
from .services import (
    api_key_create,
    api_key_revoke,
    client_activate,
    client_create,
    client_deactivate,
    client_name_clean,
    client_update,
    webhook_url_clean,
)
from .webhooks import callback_retry

KEY_SHOWN_ONCE = "copy it now: it is stored hashed and will not be shown again"
ERROR_SHOWN = 60  # characters of a callback's last error in the list; the detail page has it all


class ClientForm(forms.ModelForm):
    """Name and webhook URL through the services' validators, so the admin, the commands and
    the services refuse the same input with the same message."""

    name = forms.CharField(max_length=120, help_text="Unique, ignoring case.")
    webhook_url = forms.CharField(
        label="Webhook URL",
        max_length=500,
        required=False,
        help_text="https://... where verified-number callbacks are POSTed; empty: no callbacks.",
    )

    class Meta:
        model = Client
        fields = ["name", "webhook_url"]

    def clean_name(self) -> str:
        try:
            return client_name_clean(name=self.cleaned_data["name"], client_id=self.instance.pk)
        except ApplicationError as exc:
            raise forms.ValidationError(exc.detail) from exc

    def clean_webhook_url(self) -> str:
        try:
            return webhook_url_clean(url=self.cleaned_data["webhook_url"])
        except ApplicationError as exc:
            raise forms.ValidationError(exc.detail) from exc


def _short_time(value: datetime | None) -> SafeString | str:
    """``01 Dec 08:15``, the full time on hover: half the width of the admin's default format."""
    if value is None:
        return "-"
    shown = timezone.localtime(value).strftime("%d %b %H:%M")
    return format_html('<span title="{}">{}</span>', value.isoformat(), shown)


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    fields = ("prefix", "created_at", "revoked_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Client | None = None) -> bool:
        return False


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    form = ClientForm
    list_display = ("name", "webhook", "is_active", "active_keys", "created")
    list_filter = ("is_active",)
    search_fields = ("name", "id__exact")
    actions = ["create_api_key", "deactivate", "activate"]
    add_fields = ("name", "webhook_url")
    # is_active changes through the actions only: they also update the Redis directory.
    change_fields = ("id", "name", "webhook_url", "webhook_secret_hint", "is_active", "created_at")
    change_readonly_fields = ("id", "webhook_secret_hint", "is_active", "created_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Client]:
        active = Count("api_keys", filter=Q(api_keys__revoked_at__isnull=True))
        return super().get_queryset(request).annotate(active_key_count=active)

    def get_fields(self, request: HttpRequest, obj: Client | None = None) -> Any:
        return self.add_fields if obj is None else self.change_fields

    def get_readonly_fields(self, request: HttpRequest, obj: Client | None = None) -> Any:
        return () if obj is None else self.change_readonly_fields

    def get_inlines(self, request: HttpRequest, obj: Client | None) -> Any:
        return [] if obj is None else [ApiKeyInline]

    def has_delete_permission(self, request: HttpRequest, obj: Client | None = None) -> bool:
        return False  # deleting would drop the callback history; revoke the keys instead

    def save_model(self, request: HttpRequest, obj: Client, form: forms.Form, change: bool) -> None:
        data, actor = form.cleaned_data, actor_for_request(request)
        if change:
            client_update(client=obj, name=data["name"], webhook_url=data["webhook_url"], actor=actor)
            return
        client, raw_key = client_create(name=data["name"], webhook_url=data["webhook_url"], actor=actor)
        obj.pk = client.pk
        obj.refresh_from_db()
        obj._state.adding = False
        self.message_user(
            request,
            f"API key for {client.name}: {raw_key} ({KEY_SHOWN_ONCE}). "
            f"Webhook secret for verifying callbacks: {client.webhook_secret}",
            messages.SUCCESS,
        )

    @admin.display(description="webhook", ordering="webhook_url")
    def webhook(self, obj: Client) -> SafeString | str:
        """Scheme and host; the whole URL on hover (a long path would widen the table)."""
        if not obj.webhook_url:
            return "-"
        parts = urlsplit(obj.webhook_url)
        return format_html(
            '<span title="{}" style="overflow-wrap: anywhere">{}://{}/…</span>',
            obj.webhook_url,
            parts.scheme,
            parts.netloc,
        )

    @admin.display(description="created", ordering="created_at")
    def created(self, obj: Client) -> SafeString | str:
        return _short_time(obj.created_at)

    @admin.display(description="webhook secret")
    def webhook_secret_hint(self, obj: Client) -> str:
        return f"…{secret_hint(obj.webhook_secret)} (shown in full once, when the client was created)"

    def has_change_client_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("clients.change_client")

    @admin.action(
        description="Deactivate selected clients (refuse their API keys)", permissions=["change_client"]
    )
    @confirm_first(
        question="Deactivate these clients? Their API keys are refused within seconds, on every server; "
        "activating them again brings the keys back."
    )
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        changed = [c for c in queryset if client_deactivate(client=c, actor=actor_for_request(request))]
        for client in changed:
            self.log_change(request, client, "Deactivated (API keys refused).")
        self.message_user(request, f"Deactivated {len(changed)} client(s).", messages.SUCCESS)

    @admin.action(description="Activate selected clients", permissions=["change_client"])
    def activate(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        changed = [c for c in queryset if client_activate(client=c, actor=actor_for_request(request))]
        for client in changed:
            self.log_change(request, client, "Activated (API keys accepted again).")
        self.message_user(request, f"Activated {len(changed)} client(s).", messages.SUCCESS)

    @admin.display(description="active keys", ordering="active_key_count")
    def active_keys(self, obj: Client) -> int:
        return getattr(obj, "active_key_count", 0)

    def has_create_api_key_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("clients.add_apikey")

    @admin.action(description="Create a new API key for selected clients", permissions=["create_api_key"])
    def create_api_key(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        for client in queryset:
            raw_key = api_key_create(client=client, actor=actor_for_request(request))
            self.log_change(request, client, f"Created API key {raw_key[:12]}….")
            self.message_user(
                request, f"New API key for {client.name}: {raw_key} ({KEY_SHOWN_ONCE})", messages.SUCCESS
            )


class KeyStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "active"), ("revoked", "revoked")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> QuerySet[ApiKey]:
        if self.value() in {"active", "revoked"}:
            return queryset.filter(revoked_at__isnull=self.value() == "active")
        return queryset


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Keys are listed by prefix only; new ones come from the client action, shown once."""

    list_display = ("prefix", "client", "created", "revoked", "is_active")
    list_filter = (KeyStateFilter, "client")
    list_select_related = ("client",)
    search_fields = ("prefix", "client__name")
    fields = ("prefix", "client", "created_at", "revoked_at")
    actions = ["revoke"]

    @admin.display(boolean=True, description="active")
    def is_active(self, obj: ApiKey) -> bool:
        return obj.revoked_at is None

    @admin.display(description="created", ordering="created_at")
    def created(self, obj: ApiKey) -> SafeString | str:
        return _short_time(obj.created_at)

    @admin.display(description="revoked", ordering="revoked_at")
    def revoked(self, obj: ApiKey) -> SafeString | str:
        return _short_time(obj.revoked_at)

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("clients.change_apikey")

    @admin.action(description="Revoke selected API keys", permissions=["revoke"])
    @confirm_first(question="Revoke these API keys? They are refused within seconds and cannot be restored.")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        actor = actor_for_request(request)
        revoked = [k for k in queryset.select_related("client") if api_key_revoke(api_key=k, actor=actor)]
        for api_key in revoked:
            self.log_change(request, api_key, "Revoked.")
        self.message_user(request, f"Revoked {len(revoked)} API key(s).", messages.SUCCESS)


@admin.register(CallbackDelivery)
class CallbackDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # Short columns: the list fits a 1280 px screen beside the filters; the detail page
    # has every field in full.
    list_display = (
        "event",
        "shown_client",
        "status",
        "tries",
        "http",
        "short_error",
        "created",
        "next_or_done",
    )
    list_filter = ("status", "client", ("created_at", admin.DateFieldListFilter))
    list_select_related = ("client",)
    search_fields = ("=event_id",)
    actions = ["retry"]
    show_full_result_count = False

    @admin.display(description="event", ordering="event_id")
    def event(self, obj: CallbackDelivery) -> SafeString:
        return format_html('<span title="{}">{}…</span>', obj.event_id, obj.event_id[:8])

    @admin.display(description="client", ordering="client__name")
    def shown_client(self, obj: CallbackDelivery) -> SafeString:
        return breakable(obj.client.name)

    @admin.display(description="tries", ordering="attempts")
    def tries(self, obj: CallbackDelivery) -> int:
        return obj.attempts

    @admin.display(description="HTTP", ordering="last_status_code")
    def http(self, obj: CallbackDelivery) -> str:
        return str(obj.last_status_code or "-")

    @admin.display(description="last error")
    def short_error(self, obj: CallbackDelivery) -> SafeString:
        error = obj.last_error
        return breakable(error if len(error) <= ERROR_SHOWN else error[: ERROR_SHOWN - 1] + "…")

    @admin.display(description="created", ordering="created_at")
    def created(self, obj: CallbackDelivery) -> SafeString | str:
        return _short_time(obj.created_at)

    @admin.display(description="next try / done")
    def next_or_done(self, obj: CallbackDelivery) -> SafeString | str:
        if obj.status == CallbackDelivery.Status.PENDING:
            return _short_time(obj.next_attempt_at)
        return _short_time(obj.delivered_at)

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("clients.change_callbackdelivery")

    @admin.action(
        description="Retry selected failed callbacks now (fresh set of attempts)", permissions=["retry"]
    )
    def retry(self, request: HttpRequest, queryset: QuerySet[CallbackDelivery]) -> None:
        actor = actor_for_request(request)
        # Only failed ones: a pending delivery is being retried already, and resetting its
        # counter would let it try for ever.
        retried = [d for d in queryset.select_related("client") if callback_retry(delivery=d, actor=actor)]
        for delivery in retried:
            self.log_change(request, delivery, "Retried (fresh set of attempts).")
        skipped = queryset.count() - len(retried)
        note = f"; {skipped} not failed (pending or delivered), left alone" if skipped else ""
        self.message_user(request, f"Retrying {len(retried)} callback(s){note}.", messages.SUCCESS)
