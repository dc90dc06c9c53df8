from django.apps import AppConfig


class OnboardingConfig(AppConfig):
    name = "apps.onboarding"
    label = "onboarding"
    verbose_name = "Reverse-SMS onboarding"

    def ready(self) -> None:
        """Declare to core what this app owns: the verified set, the inbound and out_sms
        queues it drains, and the validation and repair tasks others wake."""
        from apps.core import keys, registry

        from . import tasks
        from .models import OutSms
        from .services.pipeline import sms_validate_pending
        from .services.verified import out_sms_flush

        registry.redis_set_register(
            registry.RebuiltSet(
                name="verified",
                label="verified numbers",
                key=keys.out_sms_numbers,
                members=registry.column(OutSms, "local_mobile"),
                metric="smsbridge_verified_numbers",
                metric_help="Numbers verified",
            )
        )
        registry.queue_register(
            registry.DrainedQueue(
                name="inbound",
                key=keys.sms_inbound_queue,
                drain=sms_validate_pending,
                drained="inbound SMS judged",
                report_order=10,
                drain_order=10,
            )
        )
        registry.queue_register(
            registry.DrainedQueue(
                name="out_sms",
                key=keys.out_sms_queue,
                drain=out_sms_flush,
                drained="verified numbers stored",
                report_order=40,
                drain_order=20,
            )
        )
        registry.work_register(registry.SMS_VALIDATE, tasks.sms_validate_task)
        registry.work_register(registry.REDIS_REPAIR, tasks.redis_repair_task)
