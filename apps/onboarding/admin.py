"""Verified numbers: look them up, and un-verify one so its owner can onboard again."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.core.admin import MobileSearchMixin, ReadOnlyAdminMixin

from .models import OutSms
from .services.unverify import number_unverify


@admin.register(OutSms)
class OutSmsAdmin(MobileSearchMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: rows come from the pipeline; deleting one alone would leave Redis verified."""

    mobile_field = "local_mobile"
    list_display = (
        "local_mobile",
        "country_code",
        "sender_number",
        "gateway_id",
        "received_at",
        "verified_at",
    )
    list_filter = ("country_code", ("verified_at", admin.DateFieldListFilter))
    search_fields = ("local_mobile", "sender_number")
    actions = ["unverify"]
    show_full_result_count = False

    def has_unverify_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.delete_{self.opts.model_name}")

    @admin.action(description="Un-verify selected numbers (they may onboard again)", permissions=["unverify"])
    def unverify(self, request: HttpRequest, queryset: QuerySet[OutSms]) -> None:
        mobiles = list(queryset.values_list("local_mobile", flat=True))
        done = sum(number_unverify(mobile=mobile) for mobile in mobiles)
        self.message_user(request, f"Un-verified {done} number(s).", messages.SUCCESS)
