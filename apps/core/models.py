from django.db import models


class SystemSetting(models.Model):
    """One tunable of the validation pipeline, OTP or rate limits (DESIGN.md).

    Read through ``apps.core.system_settings.system_settings_get`` (cached), written
    through ``system_setting_set`` (validates and invalidates the cache).
    """

    key = models.CharField(max_length=64, unique=True)
    value = models.JSONField()
    description = models.CharField(max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key
