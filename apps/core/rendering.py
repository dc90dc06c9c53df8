"""JSON as the cheap default of every API view; the browsable API for browsers that ask.

Measured with py-spy on a gunicorn worker under wrk (docs/benchmark.md): DRF's content
negotiation parsed the Accept header of every request and its JSONRenderer ran the
stdlib encoder, a few percent of a hot-path request each. A client that accepts JSON
(no Accept header, ``*/*`` or ``application/json``) gets the first renderer at once, and
that renderer is orjson; a browser (``text/html``) still gets DRF's own negotiation and
the BrowsableAPIRenderer at the same URLs. Request bodies in JSON are parsed by orjson
too (``OrjsonParser``).
"""

from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from django.http import HttpResponse
from rest_framework.exceptions import ParseError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

_JSON_ACCEPTS = frozenset({"", "*/*", "application/json"})


class OrjsonRenderer(JSONRenderer):
    """DRF's JSONRenderer output (compact, UTF-8) from orjson; an indented rendering
    (the browsable API asks for one) and what orjson cannot encode fall back to DRF."""

    _fallback = JSONEncoder().default

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        if (renderer_context or {}).get("indent") or (accepted_media_type or "").find("indent") >= 0:
            return super().render(data, accepted_media_type, renderer_context)
        return orjson.dumps(data, default=self._fallback)


class OrjsonParser(JSONParser):
    """DRF's JSONParser with orjson reading UTF-8 bodies (every gateway and client sends
    UTF-8; another declared charset goes to DRF's own parser): 2 to 3 % fewer
    instructions for each JSON POST (receive 1.83M to 1.78M, OTP verify 2.16M to 2.10M).
    The same answers for bad bodies: a 400 "JSON parse error - ...", NaN and Infinity
    refused as DRF's strict mode does; an integer beyond 64 bits is refused too (no field
    takes one); and nesting too deep for the stdlib decoder (a RecursionError, so a 500)
    is a 400 as well.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding") or "utf-8"
        if encoding.lower().replace("-", "") != "utf8":
            return super().parse(stream, media_type, parser_context)
        try:
            return orjson.loads(stream.read())
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None


class ApiContentNegotiation(DefaultContentNegotiation):
    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        accept = request.META.get("HTTP_ACCEPT", "").strip()
        # No query string, no ?format=: parsing an empty one into a QueryDict was 4 % of a
        # /sms/receive request under py-spy.
        query = request.META.get("QUERY_STRING")
        if (
            accept in _JSON_ACCEPTS
            and not format_suffix
            and (not query or self.settings.URL_FORMAT_OVERRIDE not in request.query_params)
        ):
            renderers = list(renderers)
            first = renderers[0]
            if first.media_type == "application/json":
                return first, first.media_type
        return super().select_renderer(request, renderers, format_suffix)


def answer(
    request: Request, data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> HttpResponse:
    """A view's JSON answer: for an API client (the request negotiated ``OrjsonRenderer``,
    compact) the bytes DRF's Response would render, in a plain HttpResponse made at once;
    for a browser or an indented rendering, DRF's Response, which renders through the
    negotiated renderer as before. Callgrind counted DRF's Response (a template response
    rendered after the view returns) at 88,000 instructions of a /sms/receive request."""
    renderer = getattr(request, "accepted_renderer", None)
    if type(renderer) is OrjsonRenderer and "indent" not in (request.accepted_media_type or ""):
        body = orjson.dumps(data, default=OrjsonRenderer._fallback)
        return HttpResponse(body, status=status, headers=headers, content_type=renderer.media_type)
    return Response(data, status=status, headers=headers)
