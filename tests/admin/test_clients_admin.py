import re
import uuid

import pytest
from django.utils import timezone

from apps.clients.models import ApiKey, CallbackDelivery, Client
from apps.clients.services import api_key_hash
from apps.core import keys
from apps.core.redis import get_redis
from apps.inbound.models import Gateway

pytestmark = pytest.mark.django_db

KEY = re.compile(r"sbk_[A-Za-z0-9_-]{20,}")


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def keys_in(response) -> list[str]:
    return [k for m in messages_of(response) for k in KEY.findall(m)]


def key_client(raw_key: str) -> str | None:
    value = get_redis().hget(keys.api_keys(), api_key_hash(raw_key))
    return None if value is None else str(value)


def test_creating_a_client_shows_its_key_once_and_stores_only_the_hash(
    admin_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/clients/client/add/",
            {"name": "Acme", "webhook_url": "https://acme.example/hook"},
            follow=True,
        )

    [raw_key] = keys_in(response)
    client = Client.objects.get(name="Acme")
    stored = ApiKey.objects.get(client=client)
    assert stored.key_hash == api_key_hash(raw_key)
    assert stored.prefix == raw_key[:12]
    assert key_client(raw_key) == str(client.id)  # the hot path can authenticate it
    assert client.webhook_secret in " ".join(messages_of(response))
    change_page = admin_client.get(f"/admin/clients/client/{client.pk}/change/").content.decode()
    assert raw_key not in change_page
    assert stored.prefix in change_page


def test_the_create_key_action_adds_a_key_shown_once(
    admin_client, make_client, django_capture_on_commit_callbacks
):
    creds = make_client("Acme")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/clients/client/",
            {"action": "create_api_key", "_selected_action": [creds.id]},
            follow=True,
        )

    [raw_key] = keys_in(response)
    assert raw_key != creds.api_key
    assert ApiKey.objects.filter(client_id=creds.id).count() == 2
    assert key_client(raw_key) == creds.id


def test_revoking_a_key_stops_it_in_redis(admin_client, make_client, django_capture_on_commit_callbacks):
    creds = make_client("Acme")
    api_key = ApiKey.objects.get(client_id=creds.id)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/clients/apikey/", {"action": "revoke", "_selected_action": [api_key.pk]}, follow=True
        )

    assert "Revoked 1 API key(s)." in messages_of(response)
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    assert key_client(creds.api_key) is None


def test_keys_list_by_prefix_and_filter_by_state(admin_client, make_client):
    creds = make_client("Acme")
    ApiKey.objects.filter(client_id=creds.id).update(revoked_at=timezone.now())
    make_client("Other")

    response = admin_client.get("/admin/clients/apikey/", {"state": "active"})

    assert [k.client.name for k in response.context["cl"].result_list] == ["Other"]
    assert creds.api_key not in response.content.decode()


def failed_delivery(client_id: str, *, status: str = CallbackDelivery.Status.FAILED) -> CallbackDelivery:
    return CallbackDelivery.objects.create(
        client_id=client_id,
        event_id=str(uuid.uuid4()),
        payload={"event": "number.verified", "mobile_number": "9876543210"},
        status=status,
        attempts=8,
        next_attempt_at=timezone.now(),
        last_error="HTTP 500: boom",
    )


def test_the_retry_action_gives_failed_callbacks_a_fresh_start(
    admin_client, make_client, django_capture_on_commit_callbacks
):
    creds = make_client("Acme", webhook_url="https://acme.example/hook")
    failed = failed_delivery(creds.id)
    delivered = failed_delivery(creds.id, status=CallbackDelivery.Status.DELIVERED)

    with django_capture_on_commit_callbacks() as queued:  # not executed: no broker needed
        response = admin_client.post(
            "/admin/clients/callbackdelivery/",
            {"action": "retry", "_selected_action": [failed.pk, delivered.pk]},
            follow=True,
        )

    assert "Retrying 1 callback(s); 1 already delivered, left alone." in messages_of(response)
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == ("pending", 0, "")
    delivered.refresh_from_db()
    assert delivered.status == "delivered"
    assert len(queued) == 1  # the first new attempt is sent once the retry commits


def test_callbacks_filter_by_status(admin_client, make_client):
    creds = make_client("Acme")
    failed = failed_delivery(creds.id)
    failed_delivery(creds.id, status=CallbackDelivery.Status.DELIVERED)

    response = admin_client.get("/admin/clients/callbackdelivery/", {"status__exact": "failed"})

    assert [d.pk for d in response.context["cl"].result_list] == [failed.pk]


def test_creating_a_gateway_registers_it_in_redis_and_shows_its_secret(
    admin_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/inbound/gateway/add/", {"kind": "android", "name": "Phone 1", "secret": ""}, follow=True
        )

    gateway = Gateway.objects.get(name="Phone 1")
    [message] = [m for m in messages_of(response) if f"/sms/receive/android/{gateway.id}" in m]
    secret = message.split("secret ", 1)[1].split(" ", 1)[0]
    assert len(secret) >= 16
    assert gateway.secrets.get().hint == secret[-4:]  # stored encrypted, shown only here
    assert get_redis().hget(keys.gateways(), str(gateway.id)) is not None


def test_a_short_gateway_secret_is_refused(admin_client):
    response = admin_client.post(
        "/admin/inbound/gateway/add/", {"kind": "native", "name": "X", "secret": "short"}
    )

    assert response.status_code == 200
    assert "at least 16 characters" in response.content.decode()
    assert not Gateway.objects.exists()
