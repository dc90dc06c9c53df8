from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "SMS Bridge core"

    def ready(self) -> None:
        from django.core import checks

        from . import schema  # noqa: F401 - registers the OpenAPI auth extension
        from .middleware import admin_middleware_check

        checks.register(admin_middleware_check)
