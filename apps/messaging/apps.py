from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "apps.messaging"
    label = "messaging"
    verbose_name = "Outbound messages"

    def ready(self) -> None:
        """Declare to core the queues this app drains and the work others wake."""
        from apps.core import keys, registry

        from . import tasks
        from .services import sender, store

        registry.work_register(registry.NOTIFICATION_SEND, tasks.notifications_send_task)
        registry.queue_register(
            registry.DrainedQueue(
                name="notifications",
                key=keys.notification_queue,
                drain=sender.notifications_send_pending,
                drained="notifications sent or failed",
                report_order=60,
                drain_order=60,
            )
        )
        registry.queue_register(
            registry.DrainedQueue(
                name="notification_events",
                key=keys.notification_events,
                drain=store.notification_events_flush,
                drained="notification changes stored",
                report_order=61,
                drain_order=61,
            )
        )
        from .dashboard import notifications_panel

        registry.dashboard_panel_register(notifications_panel)
