import time

import pytest

from apps.core import keys
from apps.core.redis import get_redis

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://127.0.0.1:1/0"


def test_health_reports_each_part(api):
    get_redis().set(keys.heartbeat("worker"), time.time())

    response = api.get("/health")

    assert response.status_code == 200
    assert response.json() == {
        "status": "healthy",
        "redis": "ok",
        "database": "ok",
        "background_workers": "running",
    }


def test_health_is_degraded_without_a_recent_worker_heartbeat(api):
    get_redis().set(keys.heartbeat("worker"), time.time() - 3600)

    body = api.get("/health").json()

    assert body["status"] == "degraded"
    assert body["background_workers"] == "stale"


def test_with_redis_down_health_is_degraded_and_not_ready(api, settings):
    settings.REDIS_URL = DEAD_REDIS

    health = api.get("/health")
    ready = api.get("/health/ready")

    assert health.status_code == 200
    assert health.json()["status"] == "degraded"
    assert health.json()["redis"].startswith("error")
    assert ready.status_code == 503
    assert api.get("/health/live").status_code == 200


def test_with_redis_down_the_hot_path_answers_503_with_retry_after(api, client_creds, make_gateway, settings):
    gateway = make_gateway("native")
    api.get("/onboard/register/9876543210", **client_creds.auth)  # credentials known in-process
    settings.REDIS_URL = DEAD_REDIS

    register = api.get("/onboard/register/9876543210", **client_creds.auth)
    receive = api.post(
        "/sms/receive",
        {"sender_number": "9876543210", "sms_message": "x", "received_timestamp": "2026-01-01T00:00:00Z"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {gateway.secret}",
    )

    for response in (register, receive):
        assert response.status_code == 503
        assert response.json()["code"] == "service_unavailable"
        assert int(response["Retry-After"]) > 0


def test_unknown_paths_answer_404_in_the_error_shape(api):
    response = api.get("/no/such/path")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}
