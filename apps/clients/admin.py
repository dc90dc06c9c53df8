"""Clients, their API keys and their callbacks.

API keys are stored as SHA-256 only: the admin shows a new key once, in the message
after it is created, and never again; so is the webhook secret (encrypted at rest),
of which the pages show only the last characters. Keys are created and revoked, and
clients deactivated, through the services, which also update the Redis directory the
hot path authenticates from.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from apps.core.admin import ReadOnlyAdminMixin
from apps.core.crypto import secret_hint

from .models import ApiKey, CallbackDelivery, Client
from .services import api_key_create, api_key_revoke, client_activate, client_create, client_deactivate
from .webhooks import callback_retry

KEY_SHOWN_ONCE = "copy it now: it is stored hashed and will not be shown again"


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
    list_display = ("name", "webhook_url", "is_active", "active_keys", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "id__exact")
    actions = ["create_api_key", "deactivate", "activate"]
    add_fields = ("name", "webhook_url")
    # is_active changes through the actions only: they also update the Redis directory.
    change_fields = ("id", "name", "webhook_url", "webhook_secret_hint", "is_active", "created_at")
    change_readonly_fields = ("id", "webhook_secret_hint", "is_active", "created_at")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

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
        if change:
            super().save_model(request, obj, form, change)
            return
        client, raw_key = client_create(name=obj.name, webhook_url=obj.webhook_url)
        obj.pk = client.pk
        obj.refresh_from_db()
        obj._state.adding = False
        self.message_user(
            request,
            f"API key for {client.name}: {raw_key} ({KEY_SHOWN_ONCE}). "
            f"Webhook secret for verifying callbacks: {client.webhook_secret}",
            messages.SUCCESS,
        )

    @admin.display(description="webhook secret")
    def webhook_secret_hint(self, obj: Client) -> str:
        return f"…{secret_hint(obj.webhook_secret)} (shown in full once, when the client was created)"

    def has_change_client_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("clients.change_client")

    @admin.action(
        description="Deactivate selected clients (refuse their API keys)", permissions=["change_client"]
    )
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        changed = sum(client_deactivate(client=client) for client in queryset)
        self.message_user(request, f"Deactivated {changed} client(s).", messages.SUCCESS)

    @admin.action(description="Activate selected clients", permissions=["change_client"])
    def activate(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        changed = sum(client_activate(client=client) for client in queryset)
        self.message_user(request, f"Activated {changed} client(s).", messages.SUCCESS)

    @admin.display(description="active keys", ordering="active_key_count")
    def active_keys(self, obj: Client) -> int:
        return getattr(obj, "active_key_count", 0)

    def has_create_api_key_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("clients.add_apikey")

    @admin.action(description="Create a new API key for selected clients", permissions=["create_api_key"])
    def create_api_key(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        for client in queryset:
            raw_key = api_key_create(client=client)
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

    list_display = ("prefix", "client", "created_at", "revoked_at", "is_active")
    list_filter = (KeyStateFilter, "client")
    list_select_related = ("client",)
    search_fields = ("prefix", "client__name")
    fields = ("prefix", "client", "created_at", "revoked_at")
    actions = ["revoke"]

    @admin.display(boolean=True, description="active")
    def is_active(self, obj: ApiKey) -> bool:
        return obj.revoked_at is None

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("clients.change_apikey")

    @admin.action(description="Revoke selected API keys", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        keys = list(queryset.filter(revoked_at__isnull=True))
        for api_key in keys:
            api_key_revoke(api_key=api_key)
        self.message_user(request, f"Revoked {len(keys)} API key(s).", messages.SUCCESS)


@admin.register(CallbackDelivery)
class CallbackDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "event_id",
        "client",
        "status",
        "attempts",
        "last_status_code",
        "short_error",
        "next_attempt_at",
        "created_at",
        "delivered_at",
    )
    list_filter = ("status", "client", ("created_at", admin.DateFieldListFilter))
    list_select_related = ("client",)
    search_fields = ("=event_id",)
    actions = ["retry"]
    show_full_result_count = False

    @admin.display(description="last error")
    def short_error(self, obj: CallbackDelivery) -> str:
        return obj.last_error if len(obj.last_error) <= 80 else obj.last_error[:79] + "…"

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("clients.change_callbackdelivery")

    @admin.action(description="Retry selected callbacks now (fresh set of attempts)", permissions=["retry"])
    def retry(self, request: HttpRequest, queryset: QuerySet[CallbackDelivery]) -> None:
        deliveries = list(queryset.exclude(status=CallbackDelivery.Status.DELIVERED))
        for delivery in deliveries:
            callback_retry(delivery=delivery)
        skipped = queryset.count() - len(deliveries)
        note = f"; {skipped} already delivered, left alone" if skipped else ""
        self.message_user(request, f"Retrying {len(deliveries)} callback(s){note}.", messages.SUCCESS)
