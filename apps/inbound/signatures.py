"""Gateway authentication: each kind's own scheme, compared in constant time."""

import hashlib
import hmac
import time

from django.conf import settings
from django.http import HttpRequest
from rest_framework import status
from twilio.request_validator import RequestValidator

from apps.core.exceptions import ApplicationError

from .services import GatewayRecord


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
    expected = hmac.new(gateway.secret.encode(), body + timestamp.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.strip().lower()):
        raise _unauthorized("X-Signature does not match the body.")


def twilio_signature_verify(*, gateway: GatewayRecord, request: HttpRequest, signature: str) -> None:
    if not signature:
        raise _unauthorized("X-Twilio-Signature header is required.")
    params = {key: request.POST.get(key) for key in request.POST}
    validator = RequestValidator(gateway.secret)
    url = settings.PUBLIC_BASE_URL + request.get_full_path() if settings.PUBLIC_BASE_URL else None
    if not validator.validate(url or request.build_absolute_uri(), params, signature):
        raise _unauthorized("X-Twilio-Signature does not match this request.")


def token_verify(*, gateway: GatewayRecord, token: str) -> None:
    if not token or not hmac.compare_digest(token.encode(), gateway.secret.encode()):
        raise ApplicationError("Missing or wrong gateway token.", code="invalid_token", status_code=403)
