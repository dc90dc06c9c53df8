"""Gateway authentication: each kind's own scheme, compared in constant time.

A gateway may have two secrets in force (the new one and, during a rotation's grace
period, the old one); a delivery is authentic when it matches either.
"""

import hashlib
import hmac
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest
from rest_framework import status
from twilio.request_validator import RequestValidator

from apps.core.exceptions import ApplicationError

from .services import GatewayRecord, gateway_lookup


def gateway_or_404(gateway_id: str, kind: str) -> GatewayRecord:
    """The active gateway ``gateway_id`` of ``kind``, or 404 (an unknown id and another
    kind's id read the same)."""
    gateway = gateway_lookup(gateway_id=gateway_id, kind=kind)
    if gateway is None:
        raise ApplicationError("Unknown gateway.", code="gateway_not_found", status_code=404)
    return gateway


def gateway_verified(gateway_id: str, kind: str, verify: Callable[[GatewayRecord], None]) -> GatewayRecord:
    """The gateway, once ``verify`` (its signature or token check) accepts the request.

    Used by the inbound endpoints and by the delivery receipts of the sending side."""
    gateway = gateway_or_404(gateway_id, kind)
    try:
        verify(gateway)
    except ApplicationError:
        # This process's copy may predate a rotation: the request may carry the new
        # secret. Check it once against a fresh copy before refusing it.
        fresh = gateway_lookup(gateway_id=gateway_id, kind=kind, fresh=True)
        if fresh is None or fresh == gateway:
            raise
        verify(fresh)
        gateway = fresh
    return gateway


def _unauthorized(detail: str) -> ApplicationError:
    return ApplicationError(detail, code="invalid_signature", status_code=status.HTTP_401_UNAUTHORIZED)


def android_signature_verify(*, gateway: GatewayRecord, body: bytes, signature: str, timestamp: str) -> None:
    """X-Signature = hex HMAC-SHA256(secret, raw body + X-Timestamp), timestamp within tolerance."""
    if not signature or not timestamp:
        raise _unauthorized("X-Signature and X-Timestamp headers are required.")
    try:
        sent_at = int(timestamp)
    except ValueError as exc:
        raise _unauthorized("X-Timestamp must be Unix seconds.") from exc
    if abs(time.time() - sent_at) > settings.GATEWAY_SIGNATURE_TOLERANCE_SECONDS:
        raise _unauthorized("X-Timestamp is too old or too far in the future.")
    presented = signature.strip().lower()
    signed = body + timestamp.encode()
    matches = [
        hmac.compare_digest(hmac.new(key.encode(), signed, hashlib.sha256).hexdigest(), presented)
        for key in gateway.secrets_in_force()
    ]
    if not any(matches):
        raise _unauthorized("X-Signature does not match the body.")


def twilio_signature_verify(*, gateway: GatewayRecord, request: HttpRequest, signature: str) -> None:
    if not signature:
        raise _unauthorized("X-Twilio-Signature header is required.")
    params = {key: request.POST.get(key) for key in request.POST}
    url = settings.PUBLIC_BASE_URL + request.get_full_path() if settings.PUBLIC_BASE_URL else None
    url = url or request.build_absolute_uri()
    matches = [
        RequestValidator(token).validate(url, params, signature) for token in gateway.secrets_in_force()
    ]
    if not any(matches):
        raise _unauthorized("X-Twilio-Signature does not match this request.")


def token_verify(*, gateway: GatewayRecord, token: str) -> None:
    if not token or not gateway.token_in_force(token):
        raise ApplicationError("Missing or wrong gateway token.", code="invalid_token", status_code=403)


def android_gateway(gateway_id: str, request: HttpRequest) -> GatewayRecord:
    """The Android gateway that signed ``request`` (X-Signature over body + X-Timestamp)."""
    signature = request.META.get("HTTP_X_SIGNATURE", "")
    timestamp = request.META.get("HTTP_X_TIMESTAMP", "")
    return gateway_verified(
        gateway_id,
        "android",
        lambda g: android_signature_verify(
            gateway=g, body=request.body, signature=signature, timestamp=timestamp
        ),
    )


def twilio_gateway(gateway_id: str, request: HttpRequest) -> GatewayRecord:
    """The Twilio gateway whose auth token signed ``request`` (X-Twilio-Signature)."""
    signature = request.META.get("HTTP_X_TWILIO_SIGNATURE", "")
    return gateway_verified(
        gateway_id,
        "twilio",
        lambda g: twilio_signature_verify(gateway=g, request=request, signature=signature),
    )
