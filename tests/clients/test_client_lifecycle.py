"""Deactivating a client refuses its API keys; activating it brings back the keys not revoked."""

import pytest

from apps.clients.models import ApiKey, Client
from apps.clients.services import (
    api_key_create,
    api_key_revoke,
    client_activate,
    client_deactivate,
)
from apps.core import keys
from apps.core.crypto import token_hash
from apps.core.redis import get_redis

pytestmark = pytest.mark.django_db

STATUS = "/onboard/status/9876543210"


def authenticated(api, api_key: str) -> bool:
    return api.get(STATUS, HTTP_AUTHORIZATION=f"Bearer {api_key}").status_code != 401


def test_a_deactivated_clients_keys_are_refused_and_come_back_on_activation(
    api, make_client, django_capture_on_commit_callbacks
):
    creds = make_client("Acme")
    client = Client.objects.get(pk=creds.id)
    assert authenticated(api, creds.api_key)  # and cached in this process

    with django_capture_on_commit_callbacks(execute=True):
        assert client_deactivate(client=client) is True

    assert not authenticated(api, creds.api_key)
    assert get_redis().hget(keys.api_keys(), token_hash(creds.api_key)) is None
    with django_capture_on_commit_callbacks(execute=True):
        assert client_activate(client=client) is True
    assert authenticated(api, creds.api_key)


def test_a_key_revoked_while_inactive_stays_revoked_after_activation(
    api, make_client, django_capture_on_commit_callbacks
):
    creds = make_client("Acme")
    client = Client.objects.get(pk=creds.id)
    with django_capture_on_commit_callbacks(execute=True):
        kept = api_key_create(client=client)
        client_deactivate(client=client)
        api_key_revoke(api_key=ApiKey.objects.get(key_hash=token_hash(creds.api_key)))
        client_activate(client=client)

    assert not authenticated(api, creds.api_key)
    assert authenticated(api, kept)


def test_a_key_made_for_an_inactive_client_works_only_once_it_is_activated(
    api, make_client, django_capture_on_commit_callbacks
):
    creds = make_client("Acme")
    client = Client.objects.get(pk=creds.id)
    with django_capture_on_commit_callbacks(execute=True):
        client_deactivate(client=client)
        new_key = api_key_create(client=client)

    assert not authenticated(api, new_key)
    with django_capture_on_commit_callbacks(execute=True):
        client_activate(client=client)
    assert authenticated(api, new_key)


def test_the_webhook_secret_is_encrypted_at_rest_and_read_back_in_plain(make_client):
    from django.db import connection

    creds = make_client("Acme")
    with connection.cursor() as cursor:
        cursor.execute("SELECT webhook_secret FROM clients_client WHERE id = %s", [creds.id])
        [stored] = cursor.fetchone()

    assert creds.webhook_secret.startswith("whsec_")
    assert creds.webhook_secret not in stored and stored.startswith("gAAAA")
    assert Client.objects.get(pk=creds.id).webhook_secret == creds.webhook_secret


def test_the_admin_shows_neither_the_webhook_secret_nor_the_key_again(admin_client, make_client):
    creds = make_client("Acme")

    change = admin_client.get(f"/admin/clients/client/{creds.id}/change/").content.decode()
    listing = admin_client.get("/admin/clients/client/").content.decode()

    for page in (change, listing):
        assert creds.webhook_secret not in page
        assert creds.api_key not in page
    assert f"…{creds.webhook_secret[-4:]}" in change


def test_the_admin_actions_deactivate_and_activate(
    admin_client, api, make_client, django_capture_on_commit_callbacks
):
    creds = make_client("Acme")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/clients/client/",
            {"action": "deactivate", "_selected_action": [creds.id], "post": "yes"},  # confirmed
            follow=True,
        )

    assert "Deactivated 1 client(s)." in [str(m) for m in response.context["messages"]]
    assert not authenticated(api, creds.api_key)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/admin/clients/client/", {"action": "activate", "_selected_action": [creds.id]})
    assert authenticated(api, creds.api_key)


def test_the_client_command_deactivates_and_activates(api, make_client, django_capture_on_commit_callbacks):
    from io import StringIO

    from django.core.management import call_command

    creds = make_client("Acme")
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("client", "deactivate", creds.id, stdout=out)
    assert "deactivated" in out.getvalue()
    assert not authenticated(api, creds.api_key)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("client", "activate", creds.id, stdout=out)
    assert authenticated(api, creds.api_key)
