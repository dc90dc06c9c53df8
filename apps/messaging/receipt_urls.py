"""Where providers send their delivery receipts, built from PUBLIC_BASE_URL.

Without PUBLIC_BASE_URL the bridge does not know an address the provider can reach, so
the builders answer "" and the adapters ask for no receipt: the notification then stays
"sent" rather than the provider retrying a receipt to a wrong address.
"""

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

JASMIN_SIGNATURE_LENGTH = 32  # hex characters: 128 bits, short enough for Jasmin's dlr-url


def twilio_status_callback_url(gateway_id: str) -> str:
    base = settings.PUBLIC_BASE_URL
    return f"{base}/notifications/receipts/twilio/{gateway_id}" if base else ""


def jasmin_dlr_url(gateway_id: str, notification_id: str) -> str:
    """The dlr-url of one message, signed: Jasmin tokens are stored hashed, so the bridge
    cannot check a token in the receipt; a per-message signature authenticates it instead."""
    base = settings.PUBLIC_BASE_URL
    if not base:
        return ""
    signature = jasmin_dlr_signature(gateway_id, notification_id)
    return f"{base}/notifications/receipts/jasmin/{gateway_id}?n={notification_id}&sig={signature}"


def jasmin_dlr_signature(gateway_id: str, notification_id: str) -> str:
    digest = salted_hmac("jasmin-dlr", f"{gateway_id}:{notification_id}", algorithm="sha256").hexdigest()
    return digest[:JASMIN_SIGNATURE_LENGTH]


def jasmin_dlr_signature_ok(gateway_id: str, notification_id: str, signature: str) -> bool:
    return constant_time_compare(jasmin_dlr_signature(gateway_id, notification_id), signature)
