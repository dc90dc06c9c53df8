"""Admin pages that belong to no model: the operator dashboard.

Wired in smsbridge/urls.py through ``admin.site.admin_view``, so only active staff
see it and everyone else is sent to the admin login.
"""

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse

from .dashboard import dashboard_get


def dashboard_view(request: HttpRequest) -> TemplateResponse:
    context = {**admin.site.each_context(request), "title": "Dashboard", "dashboard": dashboard_get()}
    return TemplateResponse(request, "admin/dashboard.html", context)
