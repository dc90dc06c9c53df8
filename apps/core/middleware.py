from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.checks import Error
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.module_loading import import_string

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


# Paths whose pages are for people with a browser: the admin (sessions, CSRF, login,
# messages, the login lockout) and the static files the admin, the browsable API and
# /api/docs/ load. Everything else is the API, which authenticates by key or signature.
def _browser_prefixes() -> tuple[str, ...]:
    static = "/" + settings.STATIC_URL.lstrip("/") if settings.STATIC_URL else "/static/"
    return ("/admin/", static)


class AdminMiddleware:
    """Runs ADMIN_MIDDLEWARE for the admin and static paths only; API paths skip it.

    Measured with py-spy on a gunicorn worker under wrk: the admin's middleware
    (WhiteNoise, sessions, common, CSRF, auth, messages, clickjacking, axes) was a fifth
    of a /health/live request and about a tenth of a register or /sms/receive one, for
    nothing an API request uses: API clients send no cookie and authenticate in the view.
    The chain is built as Django builds MIDDLEWARE, and this middleware hands Django's
    handler their process_view / process_exception / process_template_response hooks
    (CSRF checks in process_view), so the admin sees exactly the stack it had before.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._prefixes = _browser_prefixes()
        handler: Any = get_response
        chain: list[Any] = []
        for path in reversed(settings.ADMIN_MIDDLEWARE):
            middleware = import_string(path)(handler)
            chain.insert(0, middleware)
            handler = middleware
        self.admin_chain: Callable[[HttpRequest], HttpResponse] = handler
        self._view_hooks = [m.process_view for m in chain if hasattr(m, "process_view")]
        self._exception_hooks = [
            m.process_exception for m in reversed(chain) if hasattr(m, "process_exception")
        ]
        self._template_hooks = [
            m.process_template_response for m in reversed(chain) if hasattr(m, "process_template_response")
        ]

    def _is_browser(self, request: HttpRequest) -> bool:
        return request.path_info.startswith(self._prefixes)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._is_browser(request):
            return self.admin_chain(request)
        response = self.get_response(request)
        # CommonMiddleware's one service an API client relies on: a length, so gunicorn
        # keeps the connection alive instead of chunking or closing it.
        if not response.streaming and not response.has_header("Content-Length"):
            response.headers["Content-Length"] = str(len(response.content))
        return response

    def process_view(self, request: HttpRequest, view: Any, args: Any, kwargs: Any) -> HttpResponse | None:
        if not self._is_browser(request):
            return None
        for hook in self._view_hooks:
            response = hook(request, view, args, kwargs)
            if response is not None:
                return response
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not self._is_browser(request):
            return None
        for hook in self._exception_hooks:
            response = hook(request, exception)
            if response is not None:
                return response
        return None

    def process_template_response(self, request: HttpRequest, response: Any) -> Any:
        if self._is_browser(request):
            for hook in self._template_hooks:
                response = hook(request, response)
        return response


# What the admin's own checks (admin.E408-E410, axes.W002) look for in MIDDLEWARE, which
# AdminMiddleware runs from ADMIN_MIDDLEWARE instead; settings silence those checks and
# admin_middleware_check asks the same of ADMIN_MIDDLEWARE.
ADMIN_NEEDS = (
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "axes.middleware.AxesMiddleware",
)


def admin_middleware_check(**kwargs: Any) -> list[Error]:
    chain = list(getattr(settings, "ADMIN_MIDDLEWARE", []))
    errors = [
        Error(f"{path} must be in ADMIN_MIDDLEWARE: the admin needs it.", id="core.E001")
        for path in ADMIN_NEEDS
        if path not in chain
    ]
    if chain and chain[-1] != "axes.middleware.AxesMiddleware":
        errors.append(
            Error("axes.middleware.AxesMiddleware must come last in ADMIN_MIDDLEWARE.", id="core.E002")
        )
    if "apps.core.middleware.AdminMiddleware" not in settings.MIDDLEWARE:
        errors.append(Error("apps.core.middleware.AdminMiddleware must be in MIDDLEWARE.", id="core.E003"))
    return errors
