import re
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from apps.clients.models import ApiKey, CallbackDelivery, Client
from apps.core import keys
from apps.core.crypto import token_hash
from apps.core.models import OperatorAction
from apps.core.redis import get_redis
from apps.inbound.models import Gateway
from tests.factories import CallbackDeliveryFactory, ClientFactory

pytestmark = pytest.mark.django_db

KEY = re.compile(r"sbk_[A-Za-z0-9_-]{20,}")


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def keys_in(response) -> list[str]:
    return [k for m in messages_of(response) for k in KEY.findall(m)]


def key_client(raw_key: str) -> str | None:
    value = get_redis().hget(keys.api_keys(), token_hash(raw_key))
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
    assert stored.key_hash == token_hash(raw_key)
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
            "/admin/clients/apikey/",
            {"action": "revoke", "_selected_action": [api_key.pk], "post": "yes"},
            follow=True,
        )

    assert "Revoked 1 API key(s)." in messages_of(response)
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    assert key_client(creds.api_key) is None
    record = OperatorAction.objects.get(action="api_key.revoke")
    assert (record.actor, record.source, record.object_id) == ("admin", "admin", str(api_key.pk))
    assert LogEntry.objects.get(object_id=str(api_key.pk)).change_message == "Revoked."


def test_revoking_asks_first_and_revokes_nothing_without_a_yes(admin_client, make_client):
    creds = make_client("Acme")
    api_key = ApiKey.objects.get(client_id=creds.id)

    response = admin_client.post(
        "/admin/clients/apikey/", {"action": "revoke", "_selected_action": [api_key.pk]}
    )

    assert response.status_code == 200
    assert "Revoke these API keys?" in response.content.decode()
    assert api_key.prefix in response.content.decode()
    api_key.refresh_from_db()
    assert api_key.revoked_at is None
    assert key_client(creds.api_key) == creds.id
    assert not OperatorAction.objects.filter(action="api_key.revoke").exists()


def test_keys_list_by_prefix_and_filter_by_state(admin_client, make_client):
    creds = make_client("Acme")
    ApiKey.objects.filter(client_id=creds.id).update(revoked_at=timezone.now())
    make_client("Other")

    response = admin_client.get("/admin/clients/apikey/", {"state": "active"})

    assert [k.client.name for k in response.context["cl"].result_list] == ["Other"]
    assert creds.api_key not in response.content.decode()


def failed_delivery(client_id: str, *, status: str = CallbackDelivery.Status.FAILED) -> CallbackDelivery:
    return CallbackDeliveryFactory.create(
        client_id=client_id, status=status, attempts=8, last_error="HTTP 500: boom"
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

    assert "Retrying 1 callback(s); 1 not failed (pending or delivered), left alone." in messages_of(response)
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == ("pending", 0, "")
    delivered.refresh_from_db()
    assert delivered.status == "delivered"
    assert len(queued) == 1  # the first new attempt is sent once the retry commits
    record = OperatorAction.objects.get(action="callback.retry")
    assert (record.actor, record.object_id) == ("admin", str(failed.pk))
    assert record.changes == {"status": {"old": "failed", "new": "pending"}, "attempts": {"old": 8, "new": 0}}


def test_retry_leaves_the_attempts_of_pending_deliveries_alone(
    admin_client, make_client, django_capture_on_commit_callbacks
):
    creds = make_client("Acme", webhook_url="https://acme.example/hook")
    pending = failed_delivery(creds.id, status=CallbackDelivery.Status.PENDING)
    CallbackDelivery.objects.filter(pk=pending.pk).update(attempts=2, last_error="HTTP 503: busy")
    later = timezone.now() + timedelta(minutes=5)
    CallbackDelivery.objects.filter(pk=pending.pk).update(next_attempt_at=later)

    with django_capture_on_commit_callbacks() as queued:
        response = admin_client.post(
            "/admin/clients/callbackdelivery/",
            {"action": "retry", "_selected_action": [pending.pk]},
            follow=True,
        )

    assert "Retrying 0 callback(s); 1 not failed (pending or delivered), left alone." in messages_of(response)
    pending.refresh_from_db()
    assert (pending.status, pending.attempts, pending.last_error) == ("pending", 2, "HTTP 503: busy")
    assert pending.next_attempt_at == later
    assert queued == []
    assert not OperatorAction.objects.exists()


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


# --- one validation for names and webhook URLs --------------------------------------------------
BAD_WEBHOOK_URLS = [
    ("ftp://acme.example/hook", "must start with https://"),
    ("acme.example/hook", "must start with https://"),
    ("https:///hook", "has no host"),
    ("https://user:secret@acme.example/hook", "must not carry a user name or password"),
    ("https://acme .example/hook", "is not a valid URL"),
    ("https://[::1/hook", "is not a valid URL"),
]


def change_data(client_id: str, **fields: str) -> dict[str, object]:
    """A change page's post: the fields, and the read-only API key inline's management form."""
    key_ids = list(ApiKey.objects.filter(client_id=client_id).values_list("pk", flat=True))
    inline = {f"api_keys-{i}-id": pk for i, pk in enumerate(key_ids)}
    counts = {
        "TOTAL_FORMS": len(key_ids),
        "INITIAL_FORMS": len(key_ids),
        "MIN_NUM_FORMS": 0,
        "MAX_NUM_FORMS": 1000,
    }
    return {**fields, **inline, **{f"api_keys-{k}": v for k, v in counts.items()}}


def admin_error(response, field: str) -> str:
    return " ".join(response.context["adminform"].form.errors[field])


def command_error(*args: str) -> str:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as caught:
        call_command(*args)
    return str(caught.value)


@pytest.mark.parametrize(("url", "problem"), BAD_WEBHOOK_URLS)
def test_a_bad_webhook_url_is_refused_with_the_same_message_by_the_admin_and_the_command(
    admin_client, url, problem
):
    response = admin_client.post("/admin/clients/client/add/", {"name": "Acme", "webhook_url": url})

    assert response.status_code == 200
    shown = admin_error(response, "webhook_url")
    assert problem in shown
    assert command_error("create_client", "Acme", "--webhook-url", url) == shown
    assert not Client.objects.exists()


def test_plain_http_is_refused_outside_debug_unless_private_networks_are_allowed(admin_client, settings):
    settings.DEBUG, settings.CALLBACK_ALLOW_PRIVATE_NETWORKS = False, False

    response = admin_client.post(
        "/admin/clients/client/add/", {"name": "Acme", "webhook_url": "http://acme.example/hook"}
    )

    shown = admin_error(response, "webhook_url")
    assert "must use https (plain http only with CALLBACK_ALLOW_PRIVATE_NETWORKS=1)" in shown
    assert command_error("create_client", "Acme", "--webhook-url", "http://acme.example/hook") == shown
    settings.CALLBACK_ALLOW_PRIVATE_NETWORKS = True
    admin_client.post(
        "/admin/clients/client/add/", {"name": "Acme", "webhook_url": "http://acme.example/hook"}
    )
    assert Client.objects.get().webhook_url == "http://acme.example/hook"


def test_a_client_name_taken_in_another_case_is_refused_on_add_and_on_rename(admin_client, make_client):
    make_client("Acme")
    other = make_client("Globex")

    added = admin_client.post("/admin/clients/client/add/", {"name": " ACME ", "webhook_url": ""})
    renamed = admin_client.post(
        f"/admin/clients/client/{other.id}/change/", change_data(other.id, name="acme", webhook_url="")
    )

    message = "A client named 'ACME' exists already (names are compared ignoring case)."
    assert admin_error(added, "name") == message
    assert admin_error(renamed, "name") == message.replace("'ACME'", "'acme'")
    assert command_error("create_client", "aCmE") == message.replace("'ACME'", "'aCmE'")
    assert sorted(Client.objects.values_list("name", flat=True)) == ["Acme", "Globex"]


def test_the_database_refuses_a_duplicate_name_that_skips_the_service():
    from django.db import IntegrityError, transaction

    ClientFactory.create(name="Acme")
    with pytest.raises(IntegrityError), transaction.atomic():
        ClientFactory.create(name="ACME")


# --- the operator log and the history of admin changes -------------------------------------------
def test_creating_a_client_in_the_admin_is_logged_with_the_admin_user(
    admin_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/admin/clients/client/add/", {"name": "Acme", "webhook_url": "https://acme.example/h"}
        )

    client = Client.objects.get()
    actions = dict(OperatorAction.objects.values_list("action", "actor"))
    assert actions == {"client.create": "admin", "api_key.create": "admin"}
    assert OperatorAction.objects.get(action="client.create").object_id == str(client.pk)


def test_changing_the_webhook_url_records_the_old_and_new_value(admin_client, make_client):
    creds = make_client("Acme", webhook_url="https://old.example/hook")

    response = admin_client.post(
        f"/admin/clients/client/{creds.id}/change/",
        change_data(creds.id, name="Acme", webhook_url="https://new.example/hook"),
    )

    assert response.status_code == 302
    record = OperatorAction.objects.get(action="client.change")
    assert record.actor == "admin"
    assert record.changes == {
        "webhook_url": {"old": "https://old.example/hook", "new": "https://new.example/hook"}
    }
    assert Client.objects.get(pk=creds.id).webhook_url == "https://new.example/hook"


def test_deactivating_clients_asks_first_and_changes_nothing_without_a_yes(admin_client, make_client):
    creds = make_client("Acme")

    response = admin_client.post(
        "/admin/clients/client/", {"action": "deactivate", "_selected_action": [creds.id]}
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Deactivate these clients?" in page and "Acme" in page
    assert Client.objects.get(pk=creds.id).is_active
    assert key_client(creds.api_key) == creds.id


def test_deactivate_then_activate_is_logged_and_shown_in_the_clients_history(
    admin_client, make_client, django_capture_on_commit_callbacks
):
    creds = make_client("Acme")

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/admin/clients/client/", {"action": "deactivate", "_selected_action": [creds.id], "post": "yes"}
        )
    assert key_client(creds.api_key) is None
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/admin/clients/client/", {"action": "activate", "_selected_action": [creds.id]})

    assert key_client(creds.api_key) == creds.id
    records = list(OperatorAction.objects.order_by("id").values_list("action", "actor", "changes"))
    assert records == [
        ("client.deactivate", "admin", {"is_active": {"old": True, "new": False}}),
        ("client.activate", "admin", {"is_active": {"old": False, "new": True}}),
    ]
    history = admin_client.get(f"/admin/clients/client/{creds.id}/history/").content.decode()
    assert "Deactivated (API keys refused)." in history
    assert "Activated (API keys accepted again)." in history


# --- names instead of ids, and lists that fit the screen --------------------------------------------
def test_callbacks_and_keys_name_their_client_and_shorten_the_event_id(admin_client, make_client):
    creds = make_client("Acme Shop")
    delivery = failed_delivery(creds.id)

    callbacks = admin_client.get("/admin/clients/callbackdelivery/").content.decode()
    api_keys = admin_client.get("/admin/clients/apikey/").content.decode()
    detail = admin_client.get(f"/admin/clients/callbackdelivery/{delivery.pk}/change/").content.decode()

    assert "Acme Shop" in callbacks and "Acme Shop" in api_keys and "Acme Shop" in detail
    assert f">{delivery.event_id[:8]}…<" in callbacks
    assert f">{delivery.event_id}<" not in callbacks  # in full only on hover (title)
    assert creds.id not in api_keys
