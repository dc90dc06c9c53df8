from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """The top floor: the dashboard, the dead-letter pages and the commands that span apps.

    It may import every app; no app imports it (import-linter's layers contract, `make lint`).
    """

    name = "apps.operations"
    label = "operations"
    verbose_name = "SMS Bridge operations"
