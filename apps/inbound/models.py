import uuid

from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone


class Gateway(models.Model):
    """A configured SMS gateway that delivers inbound SMS, with its own secrets.

    Its secrets are GatewaySecret rows: one in force, plus the previous one during the
    grace period of a rotation. A scoped gateway may deliver SMS only from senders of
    its ``countries`` and only to its ``receiving_number``.
    """

    class Kind(models.TextChoices):
        NATIVE = "native", "Native JSON"
        ANDROID = "android", "SMS Gateway for Android"
        TWILIO = "twilio", "Twilio"
        JASMIN = "jasmin", "Jasmin"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=120)
    is_active = models.BooleanField(default=True)
    countries = models.JSONField(
        default=list,
        blank=True,
        help_text="Country calling codes of the senders this gateway may deliver (e.g. [91, 44]); empty: any.",
    )
    receiving_number = models.CharField(
        max_length=32,
        blank=True,
        help_text="The number this gateway receives on (E.164); when set, deliveries addressed to "
        "another number are refused.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    @property
    def hashes_secrets(self) -> bool:
        """Bearer tokens are only compared, so only their hash is kept."""
        return self.kind in SECRET_HASHED_KINDS


SECRET_HASHED_KINDS = frozenset({Gateway.Kind.NATIVE, Gateway.Kind.JASMIN})


class GatewaySecretQuerySet(QuerySet["GatewaySecret"]):
    def in_force(self) -> "GatewaySecretQuerySet":
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))


class GatewaySecret(models.Model):
    """One secret of a gateway, never stored in plain text.

    A bearer token (native, jasmin) is kept as its SHA-256; an HMAC key (android) or a
    Twilio auth token, which the bridge must use to check signatures, as Fernet
    ciphertext (apps.core.crypto). ``expires_at`` is set when the secret is rotated out.
    """

    gateway = models.ForeignKey(Gateway, on_delete=models.CASCADE, related_name="secrets")
    token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    ciphertext = models.TextField(blank=True)
    hint = models.CharField(max_length=4, help_text="The secret's last characters, to tell secrets apart.")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Works until then (rotated out); empty: the secret in force."
    )

    objects = GatewaySecretQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"…{self.hint} ({self.gateway_id})"
