"""Gateway admin actions: destructive ones ask first; each change is logged with the admin user."""

import pytest
from django.contrib.admin.models import LogEntry

from apps.core import keys
from apps.core.models import OperatorAction
from apps.core.redis import get_redis
from apps.inbound.models import Gateway

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/inbound/gateway/"


@pytest.mark.parametrize(
    ("action", "question"),
    [
        ("deactivate", "Deactivate these gateways?"),
        ("rotate_secret", "Give these gateways new secrets?"),
        ("rotate_secret_now", "stop the old ones at once?"),
    ],
)
def test_destructive_gateway_actions_ask_first_and_change_nothing_without_a_yes(
    admin_client, make_gateway, action, question
):
    gateway = make_gateway("android")
    secrets_before = list(gateway.model.secrets.values_list("pk", "expires_at"))

    response = admin_client.post(CHANGELIST, {"action": action, "_selected_action": [str(gateway.id)]})

    assert response.status_code == 200
    page = response.content.decode()
    assert question in page and "android gateway" in page
    assert f'name="action" value="{action}"' in page
    refreshed = Gateway.objects.get(pk=gateway.id)
    assert refreshed.is_active
    assert list(refreshed.secrets.values_list("pk", "expires_at")) == secrets_before
    assert get_redis().hget(keys.gateways(), str(gateway.id)) is not None
    assert not OperatorAction.objects.exists()


def test_confirmed_actions_are_logged_with_the_admin_user_and_in_the_history(
    admin_client, make_gateway, django_capture_on_commit_callbacks
):
    gateway = make_gateway("native")

    with django_capture_on_commit_callbacks(execute=True):
        for action in ("rotate_secret", "deactivate", "activate"):
            admin_client.post(
                CHANGELIST, {"action": action, "_selected_action": [str(gateway.id)], "post": "yes"}
            )

    assert list(OperatorAction.objects.order_by("id").values_list("action", "actor")) == [
        ("gateway.rotate", "admin"),
        ("gateway.deactivate", "admin"),
        ("gateway.activate", "admin"),
    ]
    messages = set(
        LogEntry.objects.filter(object_id=str(gateway.id)).values_list("change_message", flat=True)
    )
    assert messages == {
        "Rotated the secret (grace 3600 s).",
        "Deactivated (SMS refused).",
        "Activated (SMS accepted again).",
    }


def test_a_scope_change_in_the_change_form_is_logged_with_old_and_new_values(admin_client, make_gateway):
    gateway = make_gateway("twilio")
    inline = {
        f"secrets-{k}": v
        for k, v in {"TOTAL_FORMS": 1, "INITIAL_FORMS": 1, "MIN_NUM_FORMS": 0, "MAX_NUM_FORMS": 1000}.items()
    }
    inline["secrets-0-id"] = gateway.model.secrets.get().pk

    response = admin_client.post(
        f"{CHANGELIST}{gateway.id}/change/",
        {"name": "UK line", "countries": "44", "receiving_number": "+447911123456", **inline},
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    record = OperatorAction.objects.get()
    assert (record.action, record.actor) == ("gateway.scope", "admin")
    assert record.changes == {
        "name": {"old": "twilio gateway", "new": "UK line"},
        "countries": {"old": [], "new": [44]},
        "receiving_number": {"old": "", "new": "+447911123456"},
    }


def test_the_gateway_list_has_no_id_column(admin_client, make_gateway):
    gateway = make_gateway("jasmin")

    page = admin_client.get(CHANGELIST).content.decode()

    assert "jasmin gateway" in page
    assert f">{gateway.id}<" not in page
