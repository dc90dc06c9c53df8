import uuid

from django.db import models
from django.db.models.functions import Lower

from apps.core.crypto import EncryptedTextField


class Client(models.Model):
    """An integrating application: owns API keys and receives verified-number callbacks."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120)
    webhook_url = models.URLField(max_length=500, blank=True)
    # Signing needs it in plain text, so it is encrypted at rest rather than hashed.
    webhook_secret = EncryptedTextField(help_text="Standard Webhooks secret (whsec_...), encrypted at rest.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        # Operators and logs tell clients apart by name; "Acme" and "acme" would be two
        # clients nobody can tell apart. services.client_name_clean says so first, clearly;
        # the constraint stops the race of two concurrent creations.
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="uniq_client_name_ci",
                violation_error_message="Another client already has this name (names are compared ignoring case).",
            )
        ]

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """An API key, stored as its SHA-256 only; the key itself is shown once at creation."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="api_keys")
    prefix = models.CharField(max_length=16, help_text="First characters, to recognise a key.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.client})"


class CallbackDelivery(models.Model):
    """One verified-number callback to one client, retried until delivered or failed.

    Unique on (client, event_id) so a replayed verdict never calls a client twice.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="callbacks")
    event_id = models.CharField(max_length=64, help_text="webhook-id: stable across retries.")
    event_type = models.CharField(max_length=64, default="number.verified")
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    last_error = models.TextField(blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["client", "event_id"], name="uniq_callback_per_event")]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        verbose_name_plural = "callback deliveries"

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} → {self.client} ({self.status})"
