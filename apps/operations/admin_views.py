"""Admin pages that belong to no model: the operator dashboard and the dead letters.

Wired in smsbridge/urls.py through ``admin.site.admin_view``, so only active staff
see them and everyone else is sent to the admin login.
"""

import redis
from django.contrib import admin
from django.http import Http404, HttpRequest
from django.template.response import TemplateResponse

from .dashboard import dashboard_get
from .dead_letters import dead_letter_counts, dead_letter_page

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
