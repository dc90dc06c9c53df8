"""Clients and API keys (reads) as operators name them: by id, by key or key prefix."""

import uuid

from rest_framework import status

from apps.core.crypto import token_hash
from apps.core.exceptions import ApplicationError

from .models import ApiKey, Client

PREFIX_LENGTH = 12


def client_get(*, client_id: str) -> Client:
    """The client with this id, or ApplicationError saying the id is malformed or unknown."""
    try:
        parsed = uuid.UUID(client_id.strip())
    except ValueError as exc:
        raise ApplicationError(f"{client_id!r} is not a client id (a UUID).", code="invalid") from exc
    client = Client.objects.filter(pk=parsed).first()
    if client is None:
        raise ApplicationError(
            f"No client has the id {parsed}.", code="client_not_found", status_code=status.HTTP_404_NOT_FOUND
        )
    return client


def api_key_find(*, given: str) -> ApiKey:
    """The API key given in full, or by its prefix as the admin lists it (sbk_xxxxxxxx)."""
    given = given.strip()
    matches = list(ApiKey.objects.filter(key_hash=token_hash(given)).select_related("client")) or list(
        ApiKey.objects.filter(prefix=given[:PREFIX_LENGTH]).select_related("client")[:2]
    )
    if not matches:
        raise ApplicationError(
            f"No API key matches {given[:PREFIX_LENGTH]!r}.", code="api_key_not_found", status_code=404
        )
    if len(matches) > 1:
        raise ApplicationError(
            f"Several keys share the prefix {given[:PREFIX_LENGTH]!r}; give the full key.", code="ambiguous"
        )
    return matches[0]
