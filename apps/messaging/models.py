import uuid

from django.db import models

from apps.clients.models import Client
from apps.inbound.models import Gateway


class Notification(models.Model):
    """The durable copy of a notification; Redis holds the live one (``notification:{id}``).

    Rows arrive through the notification-events drain: the ``queued`` event creates the
    row, every later change carries the notification's ``seq`` (its number of changes so
    far) and is applied only over an older one, so replayed or reordered batches never
    move a notification backwards.
    """

    class Channel(models.TextChoices):
        SMS = "sms", "SMS"
        EMAIL = "email", "Email"

    class Status(models.TextChoices):
        QUEUED = "queued"
        SENDING = "sending"
        SENT = "sent"
        DELIVERED = "delivered"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="notifications")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    to = models.CharField(max_length=254, help_text="E.164 number or email address.")
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True, help_text="Empty when the body is secret (a one-time code).")
    body_redacted = models.BooleanField(default=False, help_text="The body held a secret and was not stored.")
    idempotency_key = models.CharField(max_length=128, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    gateway = models.ForeignKey(
        Gateway, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    provider_message_id = models.CharField(max_length=128, blank=True)
    seq = models.PositiveIntegerField(default=1, help_text="Changes applied so far (the newest wins).")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["client", "-created_at"]), models.Index(fields=["channel", "status"])]

    def __str__(self) -> str:
        return f"{self.channel} {self.id} ({self.status})"


class OutboxMessage(models.Model):
    """A message a console gateway "sent": kept here, body and all, for the admin's outbox.

    Console gateways are for development (``make run``): nothing leaves the machine, and
    the outbox is where a developer reads the one-time code that would have gone out.
    """

    notification_id = models.UUIDField(unique=True, help_text="One outbox entry per notification.")
    gateway = models.ForeignKey(Gateway, null=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(max_length=8, choices=Notification.Channel.choices)
    to = models.CharField(max_length=254)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "console outbox message"

    def __str__(self) -> str:
        return f"{self.channel} to {self.to}"
