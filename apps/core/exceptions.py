"""The one exception type for expected failures, and the DRF handler that renders it.

Every error leaves the API as ``{"detail": "...", "code": "..."}`` (plus useful fields),
whatever raised it: an ApplicationError, a DRF validation/auth error, or Redis being down.
"""

import logging
from typing import Any

import redis
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .redis import RedisUnavailable

logger = logging.getLogger(__name__)

REDIS_RETRY_AFTER_SECONDS = 5


class ApplicationError(Exception):
    """An expected failure with a stable code, an HTTP status and optional extra fields."""

    def __init__(
        self,
        detail: str,
        *,
        code: str,
        status_code: int = status.HTTP_400_BAD_REQUEST,
        extra: dict[str, Any] | None = None,
        retry_after: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.status_code = status_code
        self.extra = extra or {}
        self.retry_after = retry_after
        self.headers = headers or {}


def error_body(detail: str, code: str, **extra: Any) -> dict[str, Any]:
    return {"detail": detail, "code": code, **extra}


def _flatten_validation(detail: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(detail, dict):
        field, messages = next(iter(detail.items()))
        first = messages[0] if isinstance(messages, list) and messages else messages
        text = f"{field}: {first}" if field != "non_field_errors" else str(first)
        return text, {"errors": detail}
    if isinstance(detail, list) and detail:
        return str(detail[0]), {"errors": detail}
    return str(detail), {}


def _unavailable() -> Response:
    return Response(
        error_body("The service is temporarily unavailable; retry shortly.", "service_unavailable"),
        status=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(REDIS_RETRY_AFTER_SECONDS)},
    )


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        headers = dict(exc.headers)
        if exc.retry_after is not None:
            headers["Retry-After"] = str(exc.retry_after)
        body = error_body(exc.detail, exc.code, **exc.extra)
        return Response(body, status=exc.status_code, headers=headers)
    if isinstance(exc, redis.RedisError):
        # The breaker's fast 503s would flood the log at request rate: the failure that
        # opened it was logged. "Loading the dataset" (a restart with AOF) is transient too.
        if isinstance(exc, RedisUnavailable):
            logger.debug("redis unavailable: %s", exc)
            quiet = _unavailable()
            quiet._has_been_logged = True  # type: ignore[attr-defined]  # nor django.request's line
            return quiet
        if isinstance(exc, redis.BusyLoadingError):
            logger.info("redis is loading its data after a restart: %s", exc)
        else:
            logger.warning("redis unavailable: %s", exc)
        return _unavailable()
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body("Request body too large.", "payload_too_large"), status=413)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail, extra = _flatten_validation(exc.detail)
        response.data = error_body(detail, "invalid", **extra)
    elif isinstance(exc, exceptions.APIException):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        response.data = error_body(str(exc.detail), str(code))
    return response
