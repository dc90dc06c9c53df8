from django.apps import AppConfig


class OtpConfig(AppConfig):
    name = "apps.otp"
    label = "otp"
    verbose_name = "One-time passwords"

    def ready(self) -> None:
        """Declare to core what this app keeps in Redis (the policies mirror and the safe
        list, which the repair rebuilds) and its dashboard panel. Its monitor events go
        onto sms_monitor_queue, which the audit app drains."""
        from apps.core import keys, registry

        from .dashboard import otp_panel
        from .mirror import policy_directory
        from .models import OtpSafeNumber

        registry.mirror_register("otp_policies", policy_directory)
        registry.redis_set_register(
            registry.RebuiltSet(
                name="otp_safe",
                label="OTP safe numbers",
                key=keys.otp_safe_numbers,
                members=registry.column(OtpSafeNumber, "mobile"),
                metric="smsbridge_otp_safe_numbers",
                metric_help="Numbers exempt from the OTP velocity rules",
            )
        )
        registry.dashboard_panel_register(otp_panel)
