"""OTP policies per client, the safe list, and the dashboard's "lift" of a blocked prefix.

Every save goes through the services, so the Redis mirrors the request path reads change
with the commit.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_POST

from apps.core.admin import MobileSearchMixin
from apps.core.exceptions import ApplicationError
from apps.core.operator_log import actor_for_request
from apps.core.phone import mobile_parse

from .models import OtpPolicy, OtpSafeNumber
from .services.guard import (
    otp_policy_delete,
    otp_policy_save,
    otp_prefix_lift,
    otp_safe_number_add,
    otp_safe_number_remove,
)


@admin.register(OtpPolicy)
class OtpPolicyAdmin(admin.ModelAdmin):
    list_display = ("client", "countries", "has_template", "updated_at")
    search_fields = ("client__name",)
    autocomplete_fields = ("client",)

    @admin.display(description="countries")
    def countries(self, policy: OtpPolicy) -> str:
        return ", ".join(f"+{c}" for c in policy.allowed_country_codes) or "the setting's"

    @admin.display(description="own template", boolean=True)
    def has_template(self, policy: OtpPolicy) -> bool:
        return bool(policy.message_template)

    def save_model(self, request: HttpRequest, obj: OtpPolicy, form: forms.Form, change: bool) -> None:
        otp_policy_save(policy=obj)

    def delete_model(self, request: HttpRequest, obj: OtpPolicy) -> None:
        otp_policy_delete(policy=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[OtpPolicy]) -> None:
        for policy in queryset:
            otp_policy_delete(policy=policy)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(require_POST(self.lift_view))
        return [path("lift-prefix/", view, name="otp_prefix_lift"), *super().get_urls()]

    def lift_view(self, request: HttpRequest) -> HttpResponse:
        """The dashboard's "Lift" button: end a blocked prefix's cool-down now."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        client_id, prefix = request.POST.get("client_id", ""), request.POST.get("prefix", "")
        if not client_id or not prefix or len(client_id) > 64 or len(prefix) > 32:
            self.message_user(request, "Nothing to lift: no prefix given.", messages.ERROR)
        elif otp_prefix_lift(client_id=client_id, prefix=prefix, actor=actor_for_request(request)):
            self.message_user(request, f"Codes to +{prefix} are sent again.", messages.SUCCESS)
        else:
            self.message_user(request, f"+{prefix} was not blocked (any more).", messages.WARNING)
        return HttpResponseRedirect(reverse("admin-dashboard"))


class OtpSafeNumberForm(forms.ModelForm):
    class Meta:
        model = OtpSafeNumber
        fields = ("mobile", "note")

    def clean_mobile(self) -> str:
        try:
            return mobile_parse(self.cleaned_data["mobile"]).key
        except ApplicationError as exc:
            raise forms.ValidationError(exc.detail) from exc


@admin.register(OtpSafeNumber)
class OtpSafeNumberAdmin(MobileSearchMixin, admin.ModelAdmin):
    form = OtpSafeNumberForm
    list_display = ("mobile", "note", "created_at")
    search_fields = ("mobile", "note")

    def get_readonly_fields(self, request: HttpRequest, obj: OtpSafeNumber | None = None) -> Any:
        return ("mobile",) if obj else ()  # a different number is a new entry

    def save_model(self, request: HttpRequest, obj: OtpSafeNumber, form: forms.Form, change: bool) -> None:
        otp_safe_number_add(mobile=obj.mobile, note=obj.note)

    def delete_model(self, request: HttpRequest, obj: OtpSafeNumber) -> None:
        otp_safe_number_remove(safe=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[OtpSafeNumber]) -> None:
        for safe in queryset:
            otp_safe_number_remove(safe=safe)
