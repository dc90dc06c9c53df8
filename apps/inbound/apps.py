from django.apps import AppConfig


class InboundConfig(AppConfig):
    name = "apps.inbound"
    label = "inbound"
    verbose_name = "Inbound SMS gateways"

    def ready(self) -> None:
        """Declare to core the gateway mirrors the repair rebuilds (credentials and sending routes)."""
        from apps.core import registry

        from .mirror import gateway_directory, gateway_token_directory
        from .outbox import sms_outbox_size
        from .routes import send_route_directory

        registry.mirror_register("gateways", gateway_directory)
        registry.mirror_register("gateway_tokens", gateway_token_directory)
        registry.mirror_register("send_routes", send_route_directory)
        registry.database_gauge_register(
            registry.DatabaseGauge(
                name="smsbridge_inbound_outbox_rows",
                help="Inbound SMS kept in PostgreSQL while Redis could not take them, waiting to be queued",
                value=sms_outbox_size,
            )
        )
