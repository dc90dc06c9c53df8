from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "apps.clients"
    label = "clients"
    verbose_name = "Client apps"

    def ready(self) -> None:
        """Declare to core the API key mirror and the callback task services queue."""
        from apps.core import registry

        from . import tasks
        from .services import api_key_directory

        registry.mirror_register("api_keys", api_key_directory)
        registry.work_register(registry.CALLBACK_DELIVER, tasks.callback_deliver_task)
