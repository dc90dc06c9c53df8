from django.db import models


class BlacklistEntry(models.Model):
    """A number currently blacklisted: the durable copy of Redis ``blacklist_mobiles``.

    Entries the abuse sweep makes lapse at ``expires_at`` (a shared or recycled number is
    not locked out for ever by one bad week); an operator can make one permanent.
    """

    mobile = models.CharField(max_length=32, unique=True)
    country_code = models.CharField(max_length=4, blank=True)
    source = models.CharField(max_length=32, db_index=True, help_text="abuse_sweep, admin, command, ...")
    reason = models.CharField(max_length=255, blank=True)
    actor = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="When the entry lapses by itself; empty: permanent."
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "blacklist entries"

    def __str__(self) -> str:
        return self.mobile


class BlacklistAction(models.Model):
    """History: every add and remove, drained from ``blacklist_queue`` exactly once."""

    class Action(models.TextChoices):
        ADD = "add"
        REMOVE = "remove"
        MAKE_PERMANENT = "permanent"

    event_id = models.CharField(max_length=32, unique=True)
    action = models.CharField(max_length=12, choices=Action.choices)
    mobile = models.CharField(max_length=32, db_index=True)
    country_code = models.CharField(max_length=4, blank=True)
    source = models.CharField(max_length=32)
    reason = models.CharField(max_length=255, blank=True)
    actor = models.CharField(max_length=150, blank=True)
    occurred_at = models.DateTimeField(db_index=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at"]

    def __str__(self) -> str:
        return f"{self.action} {self.mobile}"
