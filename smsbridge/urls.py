from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.core import apis as core_apis
from apps.core.exceptions import error_body
from apps.operations.admin_views import (
    dashboard_view,
    dead_letter_list_view,
    dead_letters_view,
    event_feed_view,
)

urlpatterns = [
    path("admin/dashboard/", admin.site.admin_view(dashboard_view), name="admin-dashboard"),
    path("admin/dead-letters/", admin.site.admin_view(dead_letters_view), name="admin-dead-letters"),
    path(
        "admin/dead-letters/<str:queue>/",
        admin.site.admin_view(dead_letter_list_view),
        name="admin-dead-letter-list",
    ),
    path("admin/events/", admin.site.admin_view(event_feed_view), name="admin-event-feed"),
    path("admin/", admin.site.urls),
    path("", include("apps.onboarding.urls")),
    path("", include("apps.inbound.urls")),
    path("", include("apps.messaging.urls")),
    path("", include("apps.otp.urls")),
    path("", include("apps.clients.urls")),
    path("health", core_apis.HealthApi.as_view(), name="health"),
    path("health/live", core_apis.HealthLiveApi.as_view(), name="health-live"),
    path("health/ready", core_apis.HealthReadyApi.as_view(), name="health-ready"),
    path("metrics", core_apis.MetricsApi.as_view(), name="metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]


def not_found(request: HttpRequest, exception: Exception) -> JsonResponse:
    return JsonResponse(error_body("Not found.", "not_found"), status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(error_body("Internal server error.", "server_error"), status=500)


def bad_request(request: HttpRequest, exception: Exception) -> JsonResponse:
    return JsonResponse(error_body("Bad request.", "bad_request"), status=400)


handler404 = not_found
handler500 = server_error
handler400 = bad_request
