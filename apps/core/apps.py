from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "SMS Bridge core"

    def ready(self) -> None:
        from . import schema  # noqa: F401 - registers the OpenAPI auth extension
