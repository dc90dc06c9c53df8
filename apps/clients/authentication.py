"""Bearer API-key authentication for client endpoints, answered from Redis (no SQL)."""

from dataclasses import dataclass

from django.http import HttpRequest
from rest_framework import authentication, exceptions
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.core.authentication import bearer_token
from apps.core.crypto import token_hash

from .services import api_key_directory


@dataclass(frozen=True)
class ClientPrincipal:
    """The authenticated client app; only its id is known on the hot path."""

    client_id: str
    is_authenticated: bool = True
    is_anonymous: bool = False


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: HttpRequest) -> tuple[ClientPrincipal, None]:
        token = bearer_token(request)
        if not token:
            raise exceptions.NotAuthenticated("Send your API key as 'Authorization: Bearer <api_key>'.")
        client_id = api_key_directory.get(token_hash(token))
        if client_id is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        return ClientPrincipal(client_id=client_id), None

    def authenticate_header(self, request: HttpRequest) -> str:
        return self.keyword


# The base of every client endpoint: API-key authentication, and the caller's id. (A
# comment, not a docstring: the API schema would show a docstring on every endpoint.)
class ClientApi(APIView):
    authentication_classes = [ApiKeyAuthentication]

    def client_id(self, request: Request) -> str:
        principal: ClientPrincipal = request.user  # type: ignore[assignment]
        return principal.client_id
