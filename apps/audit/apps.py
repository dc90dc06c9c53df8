from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "apps.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        """Declare to core the queue of monitor events this app drains."""
        from apps.core import keys, registry

        from .services import monitor_flush

        registry.queue_register(
            registry.DrainedQueue(
                name="monitor",
                key=keys.sms_monitor_queue,
                drain=monitor_flush,
                drained="monitor events stored",
                report_order=20,
                drain_order=30,
            )
        )
