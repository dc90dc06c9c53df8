"""A client's own event history: read it page by page, or follow it as Server-Sent Events.

Both read only the calling client's stream (``event_history:{client_id}``), so no
parameter can reach another client's events, and neither touches the database.
"""

import threading
import time
from collections.abc import Callable, Generator, Iterable

import orjson
from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

from apps.core import keys
from apps.core.authentication import bearer_token
from apps.core.crypto import token_hash
from apps.core.exceptions import ApplicationError
from apps.core.history import (
    EVENT_TYPES,
    Event,
    event_id_parse,
    history_follow,
    history_last_id,
    history_page,
    history_truncated,
)
from apps.core.rendering import answer
from apps.core.schema import errors
from apps.core.serializers import SharedFieldsSerializer, StrictSerializer

from .authentication import ClientApi
from .services import api_key_directory

PAGE_DEFAULT = 100
PAGE_MAX = 1000
TRUNCATED = "history.truncated"  # the SSE event that says events were trimmed unread


class _EventSerializer(SharedFieldsSerializer):
    id = serializers.CharField(help_text="The event's id (`<milliseconds>-<sequence>`): pass it as `after`.")
    type = serializers.ChoiceField(choices=list(EVENT_TYPES))
    occurred_at = serializers.CharField(help_text="ISO 8601 UTC, milliseconds.")
    # (Declared fields leave the class, so this does not hide Serializer.data at run time.)
    data = serializers.DictField(help_text="The event's fields; they depend on its type.")  # type: ignore[assignment]

    class Meta:
        ref_name = "Event"


def _after(raw: str | None, *, field: str) -> str:
    try:
        return event_id_parse(raw) if raw else "0-0"
    except ValueError as exc:
        raise ApplicationError(f"{field}: {exc}", code="invalid") from exc


class EventListApi(ClientApi):
    class InputSerializer(StrictSerializer):
        after = serializers.CharField(required=False, max_length=40)
        limit = serializers.IntegerField(
            required=False, min_value=1, max_value=PAGE_MAX, default=PAGE_DEFAULT
        )

    class OutputSerializer(SharedFieldsSerializer):
        events = _EventSerializer(many=True)
        next_after = serializers.CharField(help_text="Pass as `after` for the next page (the last id here).")
        has_more = serializers.BooleanField(help_text="More events follow at once.")
        truncated = serializers.BooleanField(
            help_text="Events after `after` were trimmed from the history before they were read."
        )

        class Meta:
            ref_name = "EventPage"

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "after", str, description="An event id: only later events. Omitted: from the oldest kept."
            ),
            OpenApiParameter(
                "limit", int, description=f"Events per page, 1-{PAGE_MAX} (default {PAGE_DEFAULT})."
            ),
        ],
        responses={200: OutputSerializer, **errors(400, 401, 503)},
        operation_id="event_list",
        summary="This client's events, oldest first",
    )
    def get(self, request: Request) -> HttpResponse:
        serializer = self.InputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        after = _after(serializer.validated_data.get("after"), field="after")
        page = history_page(
            keys.event_history(self.client_id(request)), after, serializer.validated_data["limit"]
        )
        body = {
            "events": [event.to_dict() for event in page.events],
            "next_after": page.events[-1].id if page.events else after,
            "has_more": page.has_more,
            "truncated": page.truncated,
        }
        return answer(request, body)


class _FirstRenderer(BaseContentNegotiation):
    """JSON whatever the Accept header says: a follower asks for text/event-stream, and
    its errors (401, 400, 503) are still answered in the one JSON error shape."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        first = next(iter(renderers))
        return first, first.media_type

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)


# Streams followed at once in this process: each holds a server thread for its whole
# life, so without a bound a few followers would take every thread from the API.
_followers = threading.BoundedSemaphore(max(1, settings.EVENT_STREAM_MAX_CONNECTIONS))


def _frame(event: Event) -> bytes:
    return b"id: %s\nevent: %s\ndata: %s\n\n" % (
        event.id.encode(),
        event.type.encode(),
        orjson.dumps(event.to_dict()),
    )


class _Follow:
    """The body of one event stream. A class rather than a generator: the server calls
    ``close()`` whether or not the body was ever read (a generator never started would
    not run its ``finally``), and that is where the follower's place is given back."""

    def __init__(self, stream: str, after: str, truncated: bool, allowed: Callable[[], bool]) -> None:
        self._released = False
        self._frames = self._produce(stream, after, truncated, allowed)

    def _produce(
        self, stream: str, after: str, truncated: bool, allowed: Callable[[], bool]
    ) -> Generator[bytes, None, None]:
        # Reconnect after 2 s; a gap in the history is said before any event.
        yield b"retry: 2000\n\n"
        if truncated:
            yield b'event: %s\ndata: {"after": "%s"}\n\n' % (TRUNCATED.encode(), after.encode())
        until = time.monotonic() + settings.EVENT_STREAM_MAX_SECONDS
        for batch in history_follow(stream, after, until=until, wait=settings.EVENT_STREAM_KEEPALIVE_SECONDS):
            if not batch:
                yield b": keep-alive\n\n"
                continue
            # A key revoked while its stream is open stops it, as the next request would be
            # refused: checked before each batch (the key directory re-reads Redis every
            # CREDENTIAL_LOCAL_CACHE_SECONDS, so this is a dictionary lookup in between).
            if not allowed():
                return
            for event in batch:
                yield _frame(event)

    def __iter__(self) -> "_Follow":
        return self

    def __next__(self) -> bytes:
        return next(self._frames)

    def close(self) -> None:
        if not self._released:
            self._released = True
            self._frames.close()
            _followers.release()


class EventStreamApi(ClientApi):
    content_negotiation_class = _FirstRenderer

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "Last-Event-ID",
                str,
                OpenApiParameter.HEADER,
                description="Resume after this event id (EventSource sends it when it reconnects).",
            ),
            OpenApiParameter(
                "after",
                str,
                description="Start after this event id (when no Last-Event-ID); `0`: from the oldest.",
            ),
        ],
        responses={
            200: OpenApiResponse(
                description=(
                    "`text/event-stream`: one message per event (`id`, `event` = its type, `data` = the event as "
                    "JSON), `: keep-alive` comments while quiet, and `event: history.truncated` first when "
                    "events after the resume point were trimmed. Without Last-Event-ID or `after`, only "
                    "events from now on. The server ends a stream after a few minutes; reconnect with "
                    "Last-Event-ID and nothing is missed."
                )
            ),
            **errors(400, 401, 503),
        },
        operation_id="event_stream",
        summary="Follow this client's events (Server-Sent Events)",
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        stream = keys.event_history(self.client_id(request))
        resume = request.headers.get("Last-Event-ID") or request.query_params.get("after")
        field = "Last-Event-ID" if request.headers.get("Last-Event-ID") else "after"
        if resume is not None and len(resume) > 40:
            raise ApplicationError(f"{field}: not an event id", code="invalid")
        after = _after(resume, field=field) if resume else history_last_id(stream)
        truncated = bool(resume) and history_truncated(stream, after)
        if not _followers.acquire(blocking=False):
            raise ApplicationError(
                "Too many event streams are followed on this server; retry shortly.",
                code="stream_limit",
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
                retry_after=5,
            )
        client_id, key_hash = self.client_id(request), token_hash(bearer_token(request))

        def allowed() -> bool:
            return api_key_directory.get(key_hash) == client_id

        response = StreamingHttpResponse(
            _Follow(stream, after, truncated, allowed), content_type="text/event-stream"
        )
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
        return response
