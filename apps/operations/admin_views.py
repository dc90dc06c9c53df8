"""Admin pages that belong to no model: the operator dashboard, the dead letters and the
live feed of events.

Wired in smsbridge/urls.py through ``admin.site.admin_view``, so only active staff
see them and everyone else is sent to the admin login.
"""

import json
from typing import Any

import redis
from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse

from apps.clients.models import Client
from apps.core import keys
from apps.core.exceptions import ApplicationError, error_body
from apps.core.history import EVENT_TYPES, Event, event_id_parse, history_last_id
from apps.core.phone import mobile_parse

from .dashboard import dashboard_get
from .dead_letters import dead_letter_counts, dead_letter_page
from .event_feed import FeedFilter, event_feed_after, event_feed_recent

# The dashboard reloads itself this often (a meta refresh: no script) unless paused.
REFRESH_SECONDS = 10
PAUSE_PARAMETER = "refresh"  # ?refresh=off pauses


def dashboard_view(request: HttpRequest) -> TemplateResponse:
    paused = request.GET.get(PAUSE_PARAMETER) == "off"
    context = {
        **admin.site.each_context(request),
        "title": "Dashboard",
        "dashboard": dashboard_get(),
        "refresh_seconds": None if paused else REFRESH_SECONDS,
    }
    return TemplateResponse(request, "admin/dashboard.html", context)


def dead_letters_view(request: HttpRequest) -> TemplateResponse:
    """Every queue's dead-letter count, each linking to its list."""
    try:
        counts, error = dead_letter_counts(), ""
    except redis.RedisError as exc:
        counts, error = {}, f"Redis is unreachable: {exc}"
    context = {**admin.site.each_context(request), "title": "Dead letters", "counts": counts, "error": error}
    return TemplateResponse(request, "admin/dead_letters.html", context)


def dead_letter_list_view(request: HttpRequest, queue: str) -> TemplateResponse:
    """One queue's dead letters, newest first, each shown in full (read-only)."""
    page, error = None, ""
    try:
        page = dead_letter_page(queue=queue, page=_page_number(request))
    except KeyError:
        raise Http404(f"No queue named {queue!r}.") from None
    except redis.RedisError as exc:
        error = f"Redis is unreachable: {exc}"
    context = {
        **admin.site.each_context(request),
        "title": f"Dead letters: {queue}",
        "queue": queue,
        "page": page,
        "error": error,
    }
    return TemplateResponse(request, "admin/dead_letter_list.html", context)


def _page_number(request: HttpRequest) -> int:
    try:
        return int(request.GET.get("page", "1"))
    except ValueError:
        return 1


def event_feed_view(request: HttpRequest) -> HttpResponse:
    """The live feed of every event, newest first, with filters; the page asks for newer
    events every few seconds (``?after=<id>&format=json``)."""
    feed_filter = _feed_filter(request)
    names = {str(client_id): name for client_id, name in Client.objects.values_list("id", "name")}
    if request.GET.get("format") == "json":
        try:
            after = event_id_parse(request.GET.get("after", ""))
        except ValueError as exc:
            return JsonResponse(error_body(str(exc), "invalid"), status=400)
        try:
            found, last = event_feed_after(after=after, feed_filter=feed_filter)
        except redis.RedisError:
            return JsonResponse(error_body("Redis is unreachable.", "service_unavailable"), status=503)
        return JsonResponse({"events": [_shown(e, names) for e in found], "after": last})
    events, error, last = [], "", "0-0"
    try:
        last = history_last_id(keys.event_feed())
        events = [
            {**_shown(e, names), "data_json": json.dumps(e.data, ensure_ascii=False)}
            for e in event_feed_recent(feed_filter=feed_filter)
        ]
    except redis.RedisError as exc:
        error = f"Redis is unreachable: {exc}"
    context = {
        **admin.site.each_context(request),
        "title": "Live events",
        "events": events,
        "after": last,
        "error": error,
        "filter": feed_filter,
        "filter_mobile_raw": request.GET.get("mobile", ""),
        "types": EVENT_TYPES,
        "families": sorted({t.split(".")[0] + "." for t in EVENT_TYPES}),
        "clients": sorted(names.items(), key=lambda item: item[1].lower()),
        "poll_seconds": FEED_POLL_SECONDS,
    }
    return TemplateResponse(request, "admin/event_feed.html", context)


FEED_POLL_SECONDS = 2


def _feed_filter(request: HttpRequest) -> FeedFilter:
    raw_mobile = request.GET.get("mobile", "").strip()
    mobile = raw_mobile
    if raw_mobile:
        try:
            mobile = mobile_parse(raw_mobile).key
        except ApplicationError:
            pass  # shown as typed: it simply matches nothing
    return FeedFilter(
        type=request.GET.get("type", "").strip(),
        client_id=request.GET.get("client", "").strip(),
        mobile=mobile,
    )


def _shown(event: Event, names: dict[str, str]) -> dict[str, Any]:
    shown = event.to_dict(with_clients=True)
    shown["clients"] = [names.get(c, c) for c in event.client_ids]
    shown["mobile"] = event.data.get("mobile_number", "")
    return shown
