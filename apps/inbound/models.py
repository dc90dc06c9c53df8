import uuid

from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.core.crypto import EncryptedTextField


class Gateway(models.Model):
    """A configured gateway: it delivers inbound SMS, sends outbound messages, or both.

    Its secrets are GatewaySecret rows: one in force, plus the previous one during the
    grace period of a rotation. A scoped gateway may deliver SMS only from senders of
    its ``countries`` and only to its ``receiving_number``; it sends only to numbers of
    its ``countries`` too. The ``send_*`` fields say how to reach the provider's sending
    API: a gateway sends once they are set (smtp and console gateways always send).
    """

    class Kind(models.TextChoices):
        NATIVE = "native", "Native JSON"
        ANDROID = "android", "SMS Gateway for Android"
        TWILIO = "twilio", "Twilio"
        JASMIN = "jasmin", "Jasmin"
        SMTP = "smtp", "Email (SMTP)"
        CONSOLE = "console", "Console (nothing leaves the machine)"

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
    send_url = models.CharField(
        max_length=500,
        blank=True,
        help_text="Sending API: the Android gateway's base URL (local server or cloud), Jasmin's HTTP API "
        "base URL, Twilio's API base URL (empty: https://api.twilio.com), or smtp://host:port "
        "(empty: the EMAIL_HOST settings).",
    )
    send_username = models.CharField(
        max_length=200,
        blank=True,
        help_text="Sending API user: Android login, Jasmin username, Twilio Account SID.",
    )
    send_password = EncryptedTextField(
        blank=True,
        help_text="Sending API password, encrypted at rest (Twilio: the auth token; empty: the gateway's secret).",
    )
    send_from = models.CharField(
        max_length=254, blank=True, help_text="Sender: a number or sender id for SMS, an address for email."
    )
    priority = models.PositiveIntegerField(
        default=100, help_text="Sending order among the gateways that cover a destination: lower goes first."
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

    @property
    def receives(self) -> bool:
        return self.kind not in SEND_ONLY_KINDS

    @property
    def channel(self) -> str:
        """What it sends: ``email`` (smtp), ``sms`` (the SMS providers), ``any`` (console)."""
        return CHANNEL_OF_KIND[self.kind]

    @property
    def sends(self) -> bool:
        """Whether it is set up to send (the SMS providers need their API's address or account)."""
        if self.kind in SEND_ONLY_KINDS:
            return True
        if self.kind == Gateway.Kind.TWILIO:
            return bool(self.send_username)
        return self.kind != Gateway.Kind.NATIVE and bool(self.send_url)


SECRET_HASHED_KINDS = frozenset({Gateway.Kind.NATIVE, Gateway.Kind.JASMIN})
SEND_ONLY_KINDS = frozenset({Gateway.Kind.SMTP, Gateway.Kind.CONSOLE})
CHANNEL_OF_KIND: dict[str, str] = {
    Gateway.Kind.NATIVE: "sms",
    Gateway.Kind.ANDROID: "sms",
    Gateway.Kind.TWILIO: "sms",
    Gateway.Kind.JASMIN: "sms",
    Gateway.Kind.SMTP: "email",
    Gateway.Kind.CONSOLE: "any",
}


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


class InboundOutbox(models.Model):
    """An inbound SMS acknowledged while Redis could not take it, waiting to be queued.

    The gateway was told "received": Twilio, for one, never delivers an inbound SMS
    twice, so the SMS must be kept somewhere durable until Redis is back. The row holds
    the queue record (``InboundSmsRecord`` JSON) exactly as the Redis queue would have;
    ``sms_outbox_flush`` moves the rows into ``sms_inbound_queue`` oldest first, through
    the same de-duplication mark as a live delivery, and deletes them after.
    """

    gateway_id = models.CharField(max_length=64)
    message_id = models.CharField(max_length=255)
    sms_uuid = models.UUIDField()
    record = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # The de-duplication key of sms_dedupe:{gateway_id}:{message_id}: a repeat
            # delivery during the outage finds the first one's row.
            models.UniqueConstraint(
                fields=["gateway_id", "message_id"], name="inbound_outbox_one_per_message"
            )
        ]
        verbose_name = "inbound SMS outbox row"

    def __str__(self) -> str:
        return f"{self.message_id} ({self.gateway_id})"
