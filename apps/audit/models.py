from django.db import models


class MonitorEvent(models.Model):
    """One monitor event (a verdict or a registration), drained from ``sms_monitor_queue``.

    ``event_id`` is created with the event in Redis and is unique here, so a replayed
    drain batch inserts nothing twice. Every column is NOT NULL so the drain can COPY.
    """

    event_id = models.CharField(max_length=32, unique=True)
    occurred_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=32, db_index=True)
    reason = models.CharField(max_length=32, blank=True, db_index=True, help_text="The failed check, if any.")
    mobile = models.CharField(max_length=32, db_index=True)
    country_code = models.CharField(max_length=4, blank=True)
    sms_uuid = models.CharField(max_length=36, blank=True)
    gateway_id = models.CharField(max_length=36, blank=True)
    client_ids = models.JSONField(default=list)
    check_results = models.JSONField(default=dict)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at"]
        verbose_name = "monitor event"

    def __str__(self) -> str:
        return f"{self.status} {self.mobile} {self.reason}".strip()
