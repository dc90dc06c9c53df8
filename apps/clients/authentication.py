"""Bearer API-key authentication for client endpoints, answered from Redis (no SQL)."""

from dataclasses import dataclass

from django.http import HttpRequest
from rest_framework import authentication, exceptions

from .services import api_key_directory, api_key_hash


@dataclass(frozen=True)
class ClientPrincipal:
    """The authenticated client app; only its id is known on the hot path."""

    client_id: str
    is_authenticated: bool = True
    is_anonymous: bool = False


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: HttpRequest) -> tuple[ClientPrincipal, None]:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise exceptions.NotAuthenticated("Send your API key as 'Authorization: Bearer <api_key>'.")
        client_id = api_key_directory.get(api_key_hash(token.strip()))
        if client_id is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        return ClientPrincipal(client_id=client_id), None

    def authenticate_header(self, request: HttpRequest) -> str:
        return self.keyword
