"""Gateways: created through ``gateway_create`` so the Redis directories know them at once."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from .management.commands.create_gateway import endpoint_for
from .models import Gateway
from .services import gateway_create

MIN_SECRET_LENGTH = 16  # gateway_create refuses shorter secrets; said here so the form can


class GatewayAddForm(forms.ModelForm):
    secret = forms.CharField(
        required=False,
        min_length=MIN_SECRET_LENGTH,
        max_length=200,
        help_text="HMAC key (android), Twilio auth token (twilio), query token (jasmin) or bearer token "
        "(native). Leave blank to generate one.",
    )

    class Meta:
        model = Gateway
        fields = ["kind", "name", "secret"]


@admin.register(Gateway)
class GatewayAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "is_active", "id", "created_at")
    list_filter = ("kind", "is_active")
    search_fields = ("name",)
    # Only the name is editable: kind, secret and is_active are mirrored in Redis, and no
    # service updates the mirror yet.
    change_fields = ("id", "name", "kind", "secret", "is_active", "created_at", "endpoint")
    change_readonly_fields = ("id", "kind", "secret", "is_active", "created_at", "endpoint")

    def get_form(
        self, request: HttpRequest, obj: Gateway | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = GatewayAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Gateway | None = None) -> Any:
        return GatewayAddForm.Meta.fields if obj is None else self.change_fields

    def get_readonly_fields(self, request: HttpRequest, obj: Gateway | None = None) -> Any:
        return () if obj is None else self.change_readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Gateway | None = None) -> bool:
        return False  # the Redis directory would keep accepting it

    def save_model(self, request: HttpRequest, obj: Gateway, form: forms.Form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        gateway = gateway_create(kind=obj.kind, name=obj.name, secret=form.cleaned_data["secret"] or None)
        obj.pk = gateway.pk
        obj.refresh_from_db()
        obj._state.adding = False
        self.message_user(
            request,
            f"Gateway {gateway.name}: secret {gateway.secret}; {endpoint_for(gateway)}",
            messages.SUCCESS,
        )

    @admin.display(description="endpoint")
    def endpoint(self, obj: Gateway) -> str:
        return endpoint_for(obj)
