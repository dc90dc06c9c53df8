"""Credentials as requests carry them: the one reader of ``Authorization: Bearer``.

Client API keys, native gateway tokens and the metrics token all travel this way; one
parser means one answer to what a malformed header is (no credential at all).
"""

from django.http import HttpRequest
from rest_framework.request import Request


def bearer_token(request: HttpRequest | Request) -> str:
    """The token of the request's ``Authorization: Bearer <token>`` header (the scheme in
    any case); empty when there is no such header, another scheme or no token."""
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""
