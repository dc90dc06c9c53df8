"""OpenAPI description helpers: the error shape, per-status error responses, auth schemes.

Imported from CoreConfig.ready() so the authentication extension is registered.
"""

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, for people.")
    code = serializers.CharField(help_text="A stable machine-readable code, e.g. invalid_mobile_number.")

    class Meta:
        ref_name = "Error"


def _size(n: int) -> str:
    return f"{n // 1024} KiB" if n >= 1024 and n % 1024 == 0 else f"{n} bytes"


ERROR_DESCRIPTIONS = {
    400: "Invalid input (bad number, malformed body, unknown fields).",
    401: "Missing or wrong credentials or signature.",
    403: "Forbidden (blacklisted number, wrong gateway token).",
    404: "Not found, or not visible to this client.",
    409: "Conflict (number already onboarded).",
    413: f"Body over {_size(settings.MAX_REQUEST_BODY_BYTES)}.",  # what BodySizeLimitMiddleware refuses
    415: "Unsupported content type.",
    429: "Rate limited; see Retry-After.",
    503: "Redis unavailable or still being reloaded; see Retry-After.",
}


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """Error responses in the one error shape, for ``extend_schema(responses=...)``."""
    return {s: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[s]) for s in statuses}


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "apps.clients.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A client API key (sbk_...), created with `manage.py create_client`.",
        }
