"""The whole flow with real processes: HTTP API, Redis, a Celery worker and beat,
PostgreSQL, and a local HTTP server standing in for the client app's webhook."""

import json

import pytest
from standardwebhooks.webhooks import Webhook

from apps.clients.models import CallbackDelivery
from apps.core import keys
from apps.core.redis import get_redis
from apps.onboarding.models import OutSms
from tests.helpers import send_android, send_jasmin, send_native, send_twilio
from tests.polling import wait_for

pytestmark = pytest.mark.slow  # the session's real worker and beat

NUMBER = "9876543210"


def deliver(kind, api, gateway, sender, body):
    if kind == "native":
        return send_native(api, gateway.secret, sender, body)
    if kind == "android":
        return send_android(api, gateway, sender, body)
    if kind == "twilio":
        return send_twilio(api, gateway, sender, body)
    return send_jasmin(api, gateway, sender, body)


def status_of(api, creds):
    return api.get(f"/onboard/status/{NUMBER}", **creds.auth).json()["status"]


@pytest.mark.parametrize("kind", ["native", "android", "twilio", "jasmin"])
def test_a_number_is_verified_through_each_gateway_and_the_client_called_back(
    kind, api, celery_worker, make_client, make_gateway, httpserver
):
    httpserver.expect_request("/hooks/verified", method="POST").respond_with_data("ok")
    creds = make_client(webhook_url=httpserver.url_for("/hooks/verified"))
    gateway = make_gateway(kind)
    registration = api.get(f"/onboard/register/{NUMBER}", {"reference": "acct-7"}, **creds.auth).json()
    sender = "91" + NUMBER if kind == "jasmin" else "+91" + NUMBER

    accepted = deliver(kind, api, gateway, sender, registration["sms_body"])

    assert accepted.status_code in {200, 202}
    wait_for(lambda: status_of(api, creds) == "verified", timeout=10, message=celery_worker.logs)
    row = wait_for(lambda: OutSms.objects.filter(local_mobile=NUMBER).first(), message=celery_worker.logs)
    assert row.country_code == "91"
    assert row.sms_message == registration["sms_body"]
    assert str(row.gateway_id) == str(gateway.id)
    wait_for(
        lambda: len(httpserver.log) >= 1,
        message=lambda: "no callback reached the client: " + celery_worker.logs(),
    )
    request, _ = httpserver.log[0]
    payload = Webhook(creds.webhook_secret).verify(request.get_data(as_text=True), dict(request.headers))
    assert payload["event"] == "number.verified"
    assert payload["registration_id"] == registration["registration_id"]
    assert payload["reference"] == "acct-7"
    assert payload["mobile_number"] == NUMBER
    assert payload["country_code"] == "91"
    assert payload["sms_uuid"] == str(row.uuid)
    assert payload["verified_at"].endswith("Z")
    assert request.headers["webhook-id"] == str(row.uuid)
    delivery = wait_for(lambda: CallbackDelivery.objects.filter(status="delivered").first())
    assert delivery.attempts == 1
    assert api.get(f"/onboard/register/{NUMBER}", **creds.auth).status_code == 409


def test_a_wrong_sms_is_judged_invalid_and_nothing_is_stored(api, celery_worker, client_creds, make_gateway):
    gateway = make_gateway("native")
    api.get(f"/onboard/register/{NUMBER}", **client_creds.auth)

    uuid = send_native(api, gateway.secret, NUMBER, "ONBOARD:" + "f" * 64).json()["uuid"]

    verdict = wait_for(lambda: get_redis().get(keys.sms_verdict(uuid)), message=celery_worker.logs)
    assert json.loads(verdict) == {"status": "invalid", "reason": "header_hash"}
    assert status_of(api, client_creds) == "pending"
    assert not OutSms.objects.exists()


def test_a_failing_webhook_is_retried_with_backoff_until_it_succeeds(
    api, celery_worker, make_client, make_gateway, httpserver
):
    httpserver.expect_ordered_request("/hook", method="POST").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/hook", method="POST").respond_with_data("ok", status=200)
    creds = make_client(webhook_url=httpserver.url_for("/hook"))
    gateway = make_gateway("native")
    body = api.get(f"/onboard/register/{NUMBER}", **creds.auth).json()["sms_body"]

    send_native(api, gateway.secret, NUMBER, body)

    delivery = wait_for(
        lambda: CallbackDelivery.objects.filter(status="delivered").first(),
        timeout=20,
        message=celery_worker.logs,
    )
    assert delivery.attempts == 2
    assert len(httpserver.log) == 2
    first, second = (request for request, _ in httpserver.log)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]


def test_a_webhook_that_keeps_failing_is_kept_as_a_failed_delivery(
    api, celery_worker, make_client, make_gateway, httpserver
):
    httpserver.expect_request("/hook", method="POST").respond_with_data("down", status=500)
    creds = make_client(webhook_url=httpserver.url_for("/hook"))
    gateway = make_gateway("native")
    body = api.get(f"/onboard/register/{NUMBER}", **creds.auth).json()["sms_body"]

    send_native(api, gateway.secret, NUMBER, body)

    delivery = wait_for(
        lambda: CallbackDelivery.objects.filter(status="failed").first(),
        timeout=30,
        message=celery_worker.logs,
    )
    assert delivery.attempts == 3  # CALLBACK_MAX_ATTEMPTS in the test settings
    assert delivery.last_status_code == 500
    assert "HTTP 500" in delivery.last_error
    assert len(httpserver.log) == 3


def test_only_the_client_whose_registration_was_proved_is_called_back(
    api, celery_worker, make_client, make_gateway, httpserver
):
    httpserver.expect_request("/victim", method="POST").respond_with_data("ok")
    httpserver.expect_request("/attacker", method="POST").respond_with_data("ok")
    victim_app = make_client("Victim app", webhook_url=httpserver.url_for("/victim"))
    attacker_app = make_client("Attacker app", webhook_url=httpserver.url_for("/attacker"))
    gateway = make_gateway("native")
    attackers = api.get(f"/onboard/register/{NUMBER}", **attacker_app.auth).json()
    victims = api.get(f"/onboard/register/{NUMBER}", {"reference": "user-1"}, **victim_app.auth).json()

    send_native(api, gateway.secret, NUMBER, victims["sms_body"])

    delivery = wait_for(
        lambda: CallbackDelivery.objects.filter(status="delivered").first(),
        message=celery_worker.logs,
    )
    assert str(delivery.client_id) == victim_app.id
    assert [request.path for request, _ in httpserver.log] == ["/victim"]
    payload = json.loads(httpserver.log[0][0].get_data(as_text=True))
    assert (payload["registration_id"], payload["reference"]) == (victims["registration_id"], "user-1")
    assert CallbackDelivery.objects.count() == 1
    attacker_status = api.get(
        f"/onboard/status/{NUMBER}", {"registration_id": attackers["registration_id"]}, **attacker_app.auth
    ).json()["status"]
    assert attacker_status == "expired"
