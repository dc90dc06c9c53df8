"""API requests skip the admin's middleware; the admin keeps all of it."""

import pytest
from django.core.management import call_command

from apps.core.middleware import admin_middleware_check

pytestmark = pytest.mark.django_db


def test_the_system_checks_pass_with_the_admin_stack_in_admin_middleware():
    call_command("check")  # raises SystemCheckError on an error
    assert admin_middleware_check() == []


def test_the_check_names_what_the_admin_stack_lacks(settings):
    settings.ADMIN_MIDDLEWARE = [m for m in settings.ADMIN_MIDDLEWARE if "sessions" not in m]

    assert [e.id for e in admin_middleware_check()] == ["core.E001"]


def test_an_api_request_sets_no_cookie_and_keeps_security_headers(api):
    response = api.get("/health/live")

    assert response.status_code == 200 and not response.cookies
    assert response["X-Content-Type-Options"] == "nosniff"
    assert int(response["Content-Length"]) == len(response.content)
    assert "X-Frame-Options" not in response  # clickjacking guards the admin's pages


def test_the_admin_still_gets_sessions_csrf_and_frame_options(client):
    response = client.get("/admin/login/")

    assert response.status_code == 200
    assert "csrftoken" in response.cookies
    assert response["X-Frame-Options"] == "DENY"


def test_a_browser_still_gets_the_browsable_api(api):
    response = api.get("/health/live", HTTP_ACCEPT="text/html")

    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")


def test_json_clients_get_compact_json(api):
    response = api.get("/health/live", HTTP_ACCEPT="application/json")

    assert response.content == b'{"status":"ok"}'
