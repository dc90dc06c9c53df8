from django.apps import AppConfig


class AbuseConfig(AppConfig):
    name = "apps.abuse"
    label = "abuse"
    verbose_name = "Abuse and blacklist"

    def ready(self) -> None:
        """Declare to core the blacklist set the repair rebuilds and the queue of its actions."""
        from apps.core import keys, registry

        from .models import BlacklistEntry
        from .services import blacklist_flush

        registry.redis_set_register(
            registry.RebuiltSet(
                name="blacklisted",
                label="blacklisted numbers",
                key=keys.blacklist_mobiles,
                members=registry.column(BlacklistEntry, "mobile"),
                metric="smsbridge_blacklist_size",
                metric_help="Numbers on the blacklist",
            )
        )
        registry.queue_register(
            registry.DrainedQueue(
                name="blacklist",
                key=keys.blacklist_queue,
                drain=blacklist_flush,
                drained="blacklist actions stored",
                report_order=30,
                drain_order=40,
            )
        )
