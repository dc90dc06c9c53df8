import uuid

from django.db import models


class OutSms(models.Model):
    """A verified number: the SMS that proved it (table ``out_sms``).

    Keyed by the SMS uuid so a replayed drain inserts nothing twice.
    """

    uuid = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    local_mobile = models.CharField(
        max_length=20, unique=True, help_text="Normalized number: national for the home country, else E.164."
    )
    country_code = models.CharField(max_length=4)
    sender_number = models.CharField(max_length=32)
    sms_message = models.TextField()
    gateway_id = models.UUIDField(null=True, blank=True)
    received_at = models.DateTimeField()
    verified_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "out_sms"
        ordering = ["-verified_at"]
        verbose_name = "verified number"

    def __str__(self) -> str:
        return self.local_mobile
