"""Every operator action leaves a record with its actor: the admin user, or os:<user> for commands."""

import getpass
import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from apps.abuse.models import BlacklistEntry
from apps.abuse.services import blacklist_add, blacklist_flush, blacklist_make_permanent
from apps.clients.models import ApiKey, CallbackDelivery, Client
from apps.clients.services import client_create
from apps.clients.webhooks import callback_retry
from apps.core.models import OperatorAction
from apps.core.operator_log import Actor, actor_for_os, operator_action_record
from apps.core.phone import mobile_parse
from apps.inbound.models import Gateway
from apps.inbound.services import gateway_update
from tests.factories import CallbackDeliveryFactory

pytestmark = pytest.mark.django_db
OS_ACTOR = f"os:{getpass.getuser()}"
OPS = Actor(name="ops", source="admin")


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def logged() -> list[tuple[str, str, str]]:
    return list(OperatorAction.objects.order_by("id").values_list("action", "actor", "source"))


def test_commands_name_the_os_user_as_the_actor():
    assert actor_for_os() == Actor(name=OS_ACTOR, source="command")


def test_client_commands_leave_a_record_each(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        created = json.loads(run("create_client", "Shop", "--json"))
        run("client", "deactivate", created["client_id"])
        run("client", "deactivate", created["client_id"])  # no change: no record
        run("client", "activate", created["client_id"])
        run("revoke_key", created["api_key"])

    assert logged() == [
        ("client.create", OS_ACTOR, "command"),
        ("api_key.create", OS_ACTOR, "command"),
        ("client.deactivate", OS_ACTOR, "command"),
        ("client.activate", OS_ACTOR, "command"),
        ("api_key.revoke", OS_ACTOR, "command"),
    ]
    revoke = OperatorAction.objects.get(action="api_key.revoke")
    assert revoke.object_id == str(ApiKey.objects.get().pk)
    assert revoke.changes["revoked_at"]["old"] is None


def test_gateway_commands_leave_a_record_each(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        created = json.loads(run("create_gateway", "native", "Shop", "--countries", "91", "--json"))
        run("gateway", "rotate", created["gateway_id"], "--grace", "0")
        run("gateway", "deactivate", created["gateway_id"])
        run("gateway", "activate", created["gateway_id"])

    assert [action for action, _, _ in logged()] == [
        "gateway.create",
        "gateway.rotate",
        "gateway.deactivate",
        "gateway.activate",
    ]
    assert {actor for _, actor, _ in logged()} == {OS_ACTOR}
    rotate = OperatorAction.objects.get(action="gateway.rotate")
    assert rotate.object_id == created["gateway_id"]
    assert "stopped at once" in rotate.summary
    assert created["secret"] not in json.dumps(list(OperatorAction.objects.values()), default=str)


def test_blacklist_commands_leave_a_record_per_number():
    run("blacklist", "add", "9876543210", "+14155550123", "--reason", "fraud")
    run("blacklist", "remove", "9876543210")

    assert list(OperatorAction.objects.order_by("id").values_list("action", "object_id", "actor")) == [
        ("blacklist.add", "9876543210", OS_ACTOR),
        ("blacklist.add", "+14155550123", OS_ACTOR),
        ("blacklist.remove", "9876543210", OS_ACTOR),
    ]


def test_bootstrap_demo_names_its_operator_too(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run("bootstrap_demo")
        run("bootstrap_demo")  # a fresh key and token each start: the old ones are revoked

    actions = [action for action, _, _ in logged()]
    assert actions == [
        "client.create",
        "api_key.create",
        "gateway.create",
        "gateway.create",  # the console gateway, made once
        "api_key.revoke",
        "api_key.create",
        "gateway.rotate",
    ]


def test_the_bridge_acting_on_its_own_records_nothing():
    blacklist_add(mobile=mobile_parse("9876543210"), source="abuse_sweep", actor="")
    client_create(name="Shop")

    assert not OperatorAction.objects.exists()


def test_a_change_that_rolls_back_takes_its_record_with_it():
    with pytest.raises(RuntimeError), transaction.atomic():
        client_create(name="Shop", actor=OPS)
        assert OperatorAction.objects.filter(action="client.create").exists()
        raise RuntimeError("the surrounding work failed")

    assert not Client.objects.exists()
    assert not OperatorAction.objects.exists()


def test_a_scope_change_records_the_old_and_new_values(make_gateway, django_capture_on_commit_callbacks):
    gateway = make_gateway("twilio", countries=[91])

    with django_capture_on_commit_callbacks(execute=True):
        gateway_update(
            gateway=Gateway.objects.get(pk=gateway.id),
            name="twilio gateway",
            countries=[91, 44],
            receiving_number="+14155550123",
            actor=OPS,
        )

    record = OperatorAction.objects.get()
    assert record.action == "gateway.scope"
    assert record.changes == {
        "countries": {"old": [91], "new": [44, 91]},
        "receiving_number": {"old": "", "new": "+14155550123"},
    }


def test_make_permanent_and_callback_retry_record_their_actor(make_client):
    blacklist_add(mobile=mobile_parse("9876543210"), source="abuse_sweep")
    blacklist_flush()
    BlacklistEntry.objects.update(expires_at=timezone.now() + timedelta(days=1))
    creds = make_client("Shop", webhook_url="https://shop.example/hook")
    delivery = CallbackDeliveryFactory.create(client_id=creds.id, status="failed", attempts=3)

    assert blacklist_make_permanent(mobiles=["9876543210"], actor=OPS) == 1
    assert callback_retry(delivery=CallbackDelivery.objects.get(pk=delivery.pk), actor=OPS) is True
    assert callback_retry(delivery=CallbackDelivery.objects.get(pk=delivery.pk), actor=OPS) is False

    assert logged() == [("blacklist.make_permanent", "ops", "admin"), ("callback.retry", "ops", "admin")]


def test_a_record_names_its_object_and_keeps_json_changes():
    client, _ = client_create(name="Shop")

    record = operator_action_record(
        actor=OPS, action="client.change", obj=client, changes={"name": {"old": "Shop", "new": "Shop 2"}}
    )

    record.refresh_from_db()
    assert (record.object_type, record.object_id, record.object_label) == ("client", str(client.pk), "Shop")
    assert record.changes == {"name": {"old": "Shop", "new": "Shop 2"}}
    assert str(record) == "client.change Shop by ops"


def test_an_unknown_actor_source_is_refused():
    with pytest.raises(ValueError, match="unknown actor source"):
        Actor(name="x", source="cron")
