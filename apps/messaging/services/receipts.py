"""Delivery receipts: a provider says how a message it sent went; the notification moves on.

Receipts only move a notification forward (notification_change refuses "sent" after
"delivered", and anything after delivered or failed). A receipt about a message the
bridge does not know, or that another gateway now carries, changes nothing and is still
acknowledged, so the provider stops retrying it.
"""

from dataclasses import dataclass

from apps.core import keys
from apps.core.redis import get_redis

from .status import RECEIPT, notification_change, notification_for_provider_id

SENT = "sent"
DELIVERED = "delivered"
FAILED = "failed"

# Twilio's MessageStatus values that say something; queued/accepted/sending/scheduled say
# nothing new, and the ones not listed are ignored the same way.
TWILIO_STATUSES = {
    "sent": SENT,
    "delivered": DELIVERED,
    "read": DELIVERED,
    "undelivered": FAILED,
    "failed": FAILED,
}
# Jasmin: a level-1 receipt carries the SMSC's SMPP command status, levels 2 and 3 the
# handset receipt's stat.
JASMIN_TERMINAL_STATUSES = {
    "DELIVRD": DELIVERED,
    "ACCEPTD": SENT,
    "ENROUTE": SENT,
    "UNDELIV": FAILED,
    "REJECTD": FAILED,
    "EXPIRED": FAILED,
    "DELETED": FAILED,
    "UNKNOWN": FAILED,
}
ANDROID_EVENTS = {"sms:sent": SENT, "sms:delivered": DELIVERED, "sms:failed": FAILED}
SMPP_OK = "ESME_ROK"


@dataclass(frozen=True)
class ReceiptOutcome:
    notification_id: str | None  # None: no notification of this gateway has that message
    applied: bool
    status: str  # the notification's status now ("" when unknown)
    early: bool = False  # it came before the sender recorded the message: ask for it again


UNKNOWN = ReceiptOutcome(None, applied=False, status="")
EARLY = ReceiptOutcome(None, applied=False, status="", early=True)
SENDING = frozenset({"queued", "sending"})


def receipt_apply(
    *, gateway_id: str, provider_id: str, status: str, error: str = "", notification_id: str = ""
) -> ReceiptOutcome:
    """Apply a receipt about the provider's message ``provider_id``.

    ``notification_id`` is the notification the receipt must be about, when the caller
    knows it: from a signed URL (Jasmin), or because the provider id is the notification
    id (Android). A receipt can beat the sender recording the message it is about (a
    provider answers the send, then reports at once); that is ``early``, for a provider
    that retries to be told to.
    """
    found = notification_for_provider_id(gateway_id=gateway_id, provider_id=provider_id)
    if found is None or (notification_id and found != notification_id):
        return EARLY if notification_id and _not_recorded_yet(notification_id) else UNKNOWN
    if not _carried_by(found, gateway_id, provider_id):
        return UNKNOWN
    change = notification_change(
        notification_id=found,
        status=status,
        by=RECEIPT,
        last_error=error if status == FAILED else None,
        metric=_metric(gateway_id, status),
    )
    return ReceiptOutcome(found, applied=change.applied, status=change.status)


def _carried_by(notification_id: str, gateway_id: str, provider_id: str) -> bool:
    """Whether the notification's last send was this gateway's message ``provider_id``: a
    late receipt from a gateway the notification has since moved away from is stale."""
    found = get_redis().hmget(keys.notification(notification_id), ["gateway_id", "provider_id"])
    return found == [gateway_id, provider_id]


def _not_recorded_yet(notification_id: str) -> bool:
    status, provider_id = get_redis().hmget(keys.notification(notification_id), ["status", "provider_id"])
    return status in SENDING and not provider_id


def _metric(gateway_id: str, status: str) -> str:
    if status == DELIVERED:
        return f"{gateway_id}:delivered"
    if status == FAILED:
        return f"{gateway_id}:undelivered"
    return ""


def twilio_status(message_status: str) -> str | None:
    return TWILIO_STATUSES.get(message_status.strip().lower())


def jasmin_status(*, level: str, message_status: str) -> str | None:
    """A Jasmin DLR's status: level 1 is the SMSC's answer, 2 and 3 the handset's receipt."""
    value = message_status.strip().upper()
    if level.strip() == "1":
        return SENT if value == SMPP_OK else FAILED
    return JASMIN_TERMINAL_STATUSES.get(value)


def android_status(event: str) -> str | None:
    return ANDROID_EVENTS.get(event)
