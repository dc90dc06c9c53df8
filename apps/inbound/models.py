import uuid

from django.db import models


class Gateway(models.Model):
    """A configured SMS gateway that delivers inbound SMS, with its own secret.

    The secret is kept in a form the bridge can use: an HMAC key (android), the Twilio
    auth token (twilio), a query token (jasmin) or a bearer token (native).
    """

    class Kind(models.TextChoices):
        NATIVE = "native", "Native JSON"
        ANDROID = "android", "SMS Gateway for Android"
        TWILIO = "twilio", "Twilio"
        JASMIN = "jasmin", "Jasmin"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=120)
    secret = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"
