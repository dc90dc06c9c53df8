from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from .exceptions import error_body


class BodySizeLimitMiddleware:
    """Refuse oversized bodies with 413 before anything reads them.

    Django's DATA_UPLOAD_MAX_MEMORY_SIZE only fires when a view parses the body, and as
    a 400; gateways and clients are promised a 413 in the documented error shape.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        length = request.META.get("CONTENT_LENGTH") or "0"
        limit = self._limit(request)
        try:
            too_big = int(length) > limit
        except ValueError:
            return JsonResponse(error_body("Invalid Content-Length header.", "invalid"), status=400)
        if too_big:
            body = error_body(f"Request body exceeds {limit} bytes.", "payload_too_large")
            return JsonResponse(body, status=413)
        return self.get_response(request)

    @staticmethod
    def _limit(request: HttpRequest) -> int:
        # Staff upload CSV files to the admin; the API's smaller bound is for the API.
        if request.path.startswith("/admin/"):
            return settings.ADMIN_MAX_REQUEST_BODY_BYTES
        if request.path == "/notifications":
            return settings.NOTIFICATION_MAX_REQUEST_BODY_BYTES
        return settings.MAX_REQUEST_BODY_BYTES


def client_ip(request: HttpRequest) -> str:
    """The address a request came from, for the admin login lockout (django-axes).

    Behind the proxy every request arrives from the proxy's address; nginx and
    ingress-nginx put the client's in X-Real-IP, overwriting whatever the client sent.
    Without a proxy that header is the client's own word, so it is ignored.
    """
    if settings.BEHIND_PROXY and request.META.get("HTTP_X_REAL_IP"):
        return str(request.META["HTTP_X_REAL_IP"]).strip()
    return str(request.META.get("REMOTE_ADDR", ""))
