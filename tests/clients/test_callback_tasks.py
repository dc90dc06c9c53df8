"""A callback attempt's outcome is its Celery task's state: what Flower and the result
backend show agrees with the delivery row. A real worker and beat deliver; a local
HTTP server stands in for the client's webhook endpoint."""

import pytest
from celery.result import AsyncResult
from django.conf import settings

from apps.clients.models import CallbackDelivery
from apps.clients.tasks import CallbackAttemptFailed
from tests.events import task_events
from tests.factories import CallbackDeliveryFactory
from tests.polling import wait_for

pytestmark = pytest.mark.slow  # the session's real worker

DELIVER = "apps.clients.tasks.callback_deliver_task"


def delivery_due(make_client, url: str) -> CallbackDelivery:
    creds = make_client(webhook_url=url)
    return CallbackDeliveryFactory.create(client_id=creds.id)


def attempts_reported(events, delivery: CallbackDelivery, count: int) -> list[str] | None:
    """Ids of the ``count`` tasks that made an attempt, once each has ended.

    Beat's dispatch may queue a delivery again before a worker claimed it; that extra
    task finds nothing due and succeeds with "not_due", without sending anything.
    """
    ids = events.task_ids(name=DELIVER, args=(delivery.id,))
    endings = events.endings()
    if not all(task_id in endings for task_id in ids):
        return None
    attempts = [t for t in ids if endings[t].get("result") != repr("not_due")]
    return attempts if len(attempts) == count else None


def test_a_failing_webhook_is_a_retried_then_a_failed_celery_task(celery_worker, make_client, httpserver):
    httpserver.expect_request("/hook", method="POST").respond_with_data("down", status=500)

    with task_events() as events:
        delivery = delivery_due(make_client, httpserver.url_for("/hook"))
        wait_for(
            lambda: CallbackDelivery.objects.get(id=delivery.id).status == "failed",
            timeout=60,
            message=celery_worker.logs,
        )
        ids = wait_for(
            lambda: attempts_reported(events, delivery, settings.CALLBACK_MAX_ATTEMPTS), timeout=30
        )

    assert settings.CALLBACK_MAX_ATTEMPTS == 3
    assert events.outcomes(ids) == ["task-retried", "task-retried", "task-failed"]
    assert [AsyncResult(task_id).state for task_id in ids] == ["RETRY", "RETRY", "FAILURE"]
    failure = AsyncResult(ids[-1]).result
    assert isinstance(failure, CallbackAttemptFailed)
    assert f"delivery {delivery.id}, attempt 3: HTTP 500: down" in str(failure)
    assert len(httpserver.log) == 3  # one POST per attempt: the Retry re-queued nothing
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status_code) == (3, 500)


def test_a_delivered_webhook_is_a_successful_celery_task(celery_worker, make_client, httpserver):
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")

    with task_events() as events:
        delivery = delivery_due(make_client, httpserver.url_for("/hook"))
        wait_for(
            lambda: CallbackDelivery.objects.get(id=delivery.id).status == "delivered",
            timeout=30,
            message=celery_worker.logs,
        )
        ids = wait_for(lambda: attempts_reported(events, delivery, 1), timeout=30)

    assert events.outcomes(ids) == ["task-succeeded"]
    assert AsyncResult(ids[0]).get(timeout=10) == "delivered"
    assert len(httpserver.log) == 1
