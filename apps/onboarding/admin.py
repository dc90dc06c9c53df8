"""Verified numbers: look them up, and un-verify one so its owner can onboard again."""

from django.contrib import admin, messages
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest

from apps.core.admin import MobileSearchMixin, ReadOnlyAdminMixin, confirm_first
from apps.core.operator_log import actor_for_request
from apps.inbound.models import Gateway

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
        "gateway",
        "received_at",
        "verified_at",
    )
    list_filter = ("country_code", ("verified_at", admin.DateFieldListFilter))
    search_fields = ("local_mobile", "sender_number")
    actions = ["unverify"]
    show_full_result_count = False
    readonly_fields = ("gateway",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[OutSms]:
        # gateway_id is a plain UUID (the row outlives its gateway): the name comes by subquery.
        name = Gateway.objects.filter(pk=OuterRef("gateway_id")).values("name")[:1]
        return super().get_queryset(request).annotate(gateway_name=Subquery(name))

    @admin.display(description="gateway", ordering="gateway_name")
    def gateway(self, obj: OutSms) -> str:
        if obj.gateway_id is None:
            return "-"
        return getattr(obj, "gateway_name", None) or f"(deleted gateway {obj.gateway_id})"

    def has_unverify_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.delete_{self.opts.model_name}")

    @admin.action(description="Un-verify selected numbers (they may onboard again)", permissions=["unverify"])
    @confirm_first(
        question="Un-verify these numbers? They are no longer verified for any client, at once; "
        "their owners must send the SMS again to verify."
    )
    def unverify(self, request: HttpRequest, queryset: QuerySet[OutSms]) -> None:
        actor = actor_for_request(request)
        mobiles = list(queryset.values_list("local_mobile", flat=True))
        done = sum(number_unverify(mobile=mobile, actor=actor) for mobile in mobiles)
        self.message_user(request, f"Un-verified {done} number(s).", messages.SUCCESS)
