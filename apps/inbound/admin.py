"""Gateways: every change goes through the services, which keep the Redis mirrors in step.

A secret is shown once, in the message after it is made (creation or rotation), and
never again: it is stored hashed or encrypted, and the pages show only its last
characters, to tell secrets apart. The send password is write-only the same way: the
form never shows it back, and a blank one keeps the stored one.
"""

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.timesince import timesince

from apps.core.admin import confirm_first
from apps.core.exceptions import ApplicationError
from apps.core.operator_log import actor_for_request

from .management.commands._gateway_options import endpoint_for, receipt_path_for
from .models import SEND_ONLY_KINDS, Gateway, GatewaySecret, InboundOutbox
from .scope import countries_parse, receiving_number_clean
from .send_config import SendConfig, send_config_clean
from .services import (
    DEFAULT_GRACE_SECONDS,
    MIN_SECRET_LENGTH,
    gateway_activate,
    gateway_create,
    gateway_deactivate,
    gateway_rotate,
    gateway_send_update,
    gateway_update,
)

SHOWN_ONCE = "copy it now: it is stored hashed or encrypted and will not be shown again"


class CountriesField(forms.Field):
    """Calling codes typed as "91, 44", kept as a list of numbers."""

    widget = forms.TextInput

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(str(code) for code in value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[int]:
        try:
            return countries_parse(str(value or ""))
        except ApplicationError as exc:
            raise forms.ValidationError(exc.detail) from exc


COUNTRIES_HELP = (
    "Sender country calling codes it may deliver, and destinations it may send to, comma-separated "
    "(91, 44); empty: any."
)
SENDING_HELP = (
    "How the bridge reaches the provider's sending API. SMS gateways send once the URL (Twilio: the "
    "username, its Account SID) is set; smtp and console gateways always send."
)
SENDING_FIELDS = ["send_url", "send_username", "new_send_password", "send_from", "priority"]


class ScopeFormMixin(forms.ModelForm):
    new_send_password = forms.CharField(
        label="Send password",
        required=False,
        max_length=500,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Write-only: never shown again; leave blank to keep the stored one. Empty everywhere: "
        "the gateway's secret is used (Twilio's auth token).",
    )

    # Optional here (the model's default when blank), so a form without the sending fields
    # (a receive-only gateway, a script posting the old fields) still saves.
    priority = forms.IntegerField(
        required=False,
        min_value=0,
        initial=100,
        help_text="Sending order among the gateways that cover a destination: lower goes first.",
    )

    def kind(self) -> str:
        if not self.instance._state.adding:  # a change form has no kind: the stored one counts
            return self.instance.kind
        return str(self.data.get("kind") or "")

    def clean_receiving_number(self) -> str:
        try:
            return receiving_number_clean(kind=self.kind(), raw=self.cleaned_data.get("receiving_number", ""))
        except ApplicationError as exc:
            raise forms.ValidationError(exc.detail) from exc

    def send_config(self) -> SendConfig:
        data = self.cleaned_data
        return SendConfig(
            url=data.get("send_url") or "",
            username=data.get("send_username") or "",
            password=data.get("new_send_password") or "",
            from_=data.get("send_from") or "",
            priority=data["priority"] if data.get("priority") is not None else self._stored_priority(),
        )

    def _stored_priority(self) -> int:
        # Blank keeps what the gateway has (the model's default for a new one).
        stored = self.initial.get("priority")
        return int(stored) if stored is not None else int(Gateway._meta.get_field("priority").get_default())

    def clean(self) -> dict[str, Any]:
        """The sending settings through the services' check, so a bad one is refused here
        with its message rather than failing the save."""
        cleaned = super().clean() or {}
        if self.kind() in Gateway.Kind.values:
            try:
                send_config_clean(kind=self.kind(), config=self.send_config())
            except ApplicationError as exc:
                self.add_error(None, exc.detail)
        return cleaned


class GatewayAddForm(ScopeFormMixin):
    secret = forms.CharField(
        required=False,
        min_length=MIN_SECRET_LENGTH,
        max_length=200,
        help_text="HMAC key (android), Twilio auth token (twilio), query token (jasmin) or bearer token "
        "(native). Leave blank to generate one.",
    )
    countries = CountriesField(required=False, help_text=COUNTRIES_HELP)

    class Meta:
        model = Gateway
        fields = ["kind", "name", "secret", "countries", "receiving_number", *SENDING_FIELDS]

    def clean_secret(self) -> str:
        secret = self.cleaned_data.get("secret") or ""
        if secret and self.kind() in SEND_ONLY_KINDS:
            raise forms.ValidationError(f"A {self.kind()} gateway only sends: it takes no secret.")
        return secret


class GatewayChangeForm(ScopeFormMixin):
    countries = CountriesField(required=False, help_text=COUNTRIES_HELP)

    class Meta:
        model = Gateway
        fields = ["name", "countries", "receiving_number", *SENDING_FIELDS]


class GatewaySecretInline(admin.TabularInline):
    model = GatewaySecret
    fields = ("shown_hint", "created_at", "expires_at", "in_force")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "secrets (rotate with the list's action)"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="secret")
    def shown_hint(self, obj: GatewaySecret) -> str:
        return f"…{obj.hint}"

    @admin.display(boolean=True, description="in force")
    def in_force(self, obj: GatewaySecret) -> bool:
        return obj.expires_at is None or obj.expires_at > timezone.now()


@admin.register(Gateway)
class GatewayAdmin(admin.ModelAdmin):
    # No id column: a UUID would widen the table past a 1280 px screen; the detail page has it.
    list_display = ("name", "kind", "is_active", "sends", "shown_countries", "receiving_number", "created_at")
    list_filter = ("kind", "is_active")
    search_fields = ("name",)
    actions = ["rotate_secret", "rotate_secret_now", "deactivate", "activate"]
    readonly_fields = ("id", "kind", "is_active", "created_at", "endpoint", "send_password_state", "receipts")
    inlines = [GatewaySecretInline]

    def get_form(
        self, request: HttpRequest, obj: Gateway | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        kwargs["form"] = GatewayAddForm if obj is None else GatewayChangeForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Gateway | None = None) -> Any:
        if obj is None:
            receiving = ["kind", "name", "secret", "countries", "receiving_number"]
            sending = SENDING_FIELDS
        else:
            receiving = [
                "id",
                "name",
                "kind",
                "is_active",
                "countries",
                "receiving_number",
                "created_at",
                "endpoint",
            ]
            sending = [*SENDING_FIELDS[:2], "send_password_state", *SENDING_FIELDS[2:], "receipts"]
        return [
            (None, {"fields": receiving}),
            ("Sending", {"fields": sending, "description": SENDING_HELP}),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Gateway | None = None) -> Any:
        return () if obj is None else self.readonly_fields

    def get_inlines(self, request: HttpRequest, obj: Gateway | None) -> Any:
        return [] if obj is None else self.inlines

    def has_delete_permission(self, request: HttpRequest, obj: Gateway | None = None) -> bool:
        return False  # deactivate instead: the audit trail keeps referring to it

    def save_model(self, request: HttpRequest, obj: Gateway, form: forms.Form, change: bool) -> None:
        data = form.cleaned_data
        scope = {"countries": data["countries"], "receiving_number": data["receiving_number"]}
        send = cast(ScopeFormMixin, form).send_config()
        actor = actor_for_request(request)
        if change:
            # One transaction (the admin's): the scope and the sending settings change together.
            gateway_update(gateway=obj, name=data["name"], actor=actor, **scope)
            gateway_send_update(gateway=obj, send=send, actor=actor)
            return
        gateway, secret = gateway_create(
            kind=obj.kind, name=obj.name, secret=data["secret"] or None, send=send, actor=actor, **scope
        )
        obj.pk = gateway.pk
        obj.refresh_from_db()
        obj._state.adding = False
        self.message_user(request, self._created_text(gateway, secret), messages.SUCCESS)

    def _created_text(self, gateway: Gateway, secret: str) -> str:
        shown = f"secret {secret} ({SHOWN_ONCE}); {endpoint_for(gateway)}" if secret else "it only sends"
        receipts = receipt_path_for(gateway)
        if gateway.sends and receipts:
            shown += f"; delivery receipts: POST {receipts}"
        return f"Gateway {gateway.name}: {shown}"

    @admin.display(description="countries")
    def shown_countries(self, obj: Gateway) -> str:
        return ", ".join(str(code) for code in obj.countries) or "any"

    @admin.display(description="endpoint")
    def endpoint(self, obj: Gateway) -> str:
        return endpoint_for(obj)

    @admin.display(boolean=True, description="sends")
    def sends(self, obj: Gateway) -> bool:
        return obj.sends

    @admin.display(description="send password")
    def send_password_state(self, obj: Gateway) -> str:
        return "stored (encrypted; not shown)" if obj.send_password else "none"

    @admin.display(description="delivery receipts")
    def receipts(self, obj: Gateway) -> str:
        path = receipt_path_for(obj)
        return f"POST {path}" if path else "-"

    def has_change_gateway_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("inbound.change_gateway")

    @admin.action(
        description=f"Rotate secret (the old one works for {DEFAULT_GRACE_SECONDS // 60} more minutes)",
        permissions=["change_gateway"],
    )
    @confirm_first(
        question="Give these gateways new secrets? Each new secret is shown once; configure it on the "
        f"gateway within {DEFAULT_GRACE_SECONDS // 60} minutes, when the old one stops working."
    )
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[Gateway]) -> None:
        self._rotate(request, queryset, grace_seconds=DEFAULT_GRACE_SECONDS)

    @admin.action(description="Rotate secret now (the old one stops at once)", permissions=["change_gateway"])
    @confirm_first(
        question="Give these gateways new secrets and stop the old ones at once? Their SMS are refused "
        "until the new secret is configured on each gateway."
    )
    def rotate_secret_now(self, request: HttpRequest, queryset: QuerySet[Gateway]) -> None:
        self._rotate(request, queryset, grace_seconds=0)

    def _rotate(self, request: HttpRequest, queryset: QuerySet[Gateway], *, grace_seconds: int) -> None:
        actor = actor_for_request(request)
        for gateway in queryset:
            secret = gateway_rotate(gateway=gateway, grace_seconds=grace_seconds, actor=actor)
            self.log_change(request, gateway, f"Rotated the secret (grace {grace_seconds} s).")
            self.message_user(request, f"New secret of {gateway}: {secret} ({SHOWN_ONCE})", messages.SUCCESS)

    @admin.action(
        description="Deactivate selected gateways (refuse their SMS)", permissions=["change_gateway"]
    )
    @confirm_first(
        question="Deactivate these gateways? Their SMS are refused within seconds, on every server."
    )
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Gateway]) -> None:
        actor = actor_for_request(request)
        changed = [g for g in queryset if gateway_deactivate(gateway=g, actor=actor)]
        for gateway in changed:
            self.log_change(request, gateway, "Deactivated (SMS refused).")
        self.message_user(request, f"Deactivated {len(changed)} gateway(s).", messages.SUCCESS)

    @admin.action(description="Activate selected gateways", permissions=["change_gateway"])
    def activate(self, request: HttpRequest, queryset: QuerySet[Gateway]) -> None:
        actor = actor_for_request(request)
        changed = [g for g in queryset if gateway_activate(gateway=g, actor=actor)]
        for gateway in changed:
            self.log_change(request, gateway, "Activated (SMS accepted again).")
        self.message_user(request, f"Activated {len(changed)} gateway(s).", messages.SUCCESS)


@admin.register(InboundOutbox)
class InboundOutboxAdmin(admin.ModelAdmin):
    """SMS acknowledged while Redis was away, waiting for sms-outbox-flush to queue them.

    Read-only: each row is an SMS a gateway was told was received (and may never send
    again), so nobody deletes or edits one by hand; the flush moves it once Redis is back.
    The record is not shown: its body still carries an unused onboarding hash.
    """

    list_display = ["message_id", "gateway_id", "sms_uuid", "created_at", "waiting"]
    list_filter = ["gateway_id"]
    search_fields = ["message_id", "sms_uuid"]
    ordering = ["id"]
    fields = ["gateway_id", "message_id", "sms_uuid", "created_at"]
    readonly_fields = ["gateway_id", "message_id", "sms_uuid", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="waiting")
    def waiting(self, row: InboundOutbox) -> str:
        return timesince(row.created_at, timezone.now())
