from django.db import models
from django.utils import timezone


class SystemSetting(models.Model):
    """One tunable of the validation pipeline, OTP or rate limits (DESIGN.md).

    Read through ``apps.core.system_settings.system_settings_get`` (cached), written
    through ``system_setting_set`` (validates and invalidates the cache).
    """

    key = models.CharField(max_length=64, unique=True)
    # blank: an empty list or object is a value like any other; whether it is allowed is
    # each key's own rule (system_settings.PARSERS), checked by the admin form and the service.
    value = models.JSONField(blank=True)
    description = models.CharField(max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class OperatorAction(models.Model):
    """One change an operator made, by whom and from where (the admin or a command).

    Written by ``apps.core.operator_log.operator_action_record`` in the transaction of the
    change itself, so a change without its record (or a record of a change that rolled
    back) cannot exist. Never edited or deleted from the admin.
    """

    class Source(models.TextChoices):
        ADMIN = "admin"
        COMMAND = "command"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.CharField(
        max_length=150, db_index=True, help_text="Admin username, or os:<user> for manage.py commands."
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    action = models.CharField(
        max_length=64, db_index=True, help_text="What was done, e.g. client.deactivate."
    )
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    object_label = models.CharField(max_length=200, blank=True)
    summary = models.CharField(max_length=255, blank=True)
    changes = models.JSONField(default=dict, blank=True, help_text='{"field": {"old": ..., "new": ...}}')

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "operator action"
        verbose_name_plural = "operator log"

    def __str__(self) -> str:
        return f"{self.action} {self.object_label} by {self.actor}".strip()
