"""The Gateway admin: a secret is shown once, in a message; the pages never show it again."""

import pytest

from apps.core import keys
from apps.core.redis import get_redis
from apps.inbound.models import Gateway
from tests.helpers import GatewayCreds, send_native

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/inbound/gateway/"
BODY = "ONBOARD:" + "a" * 64


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def act(admin_client, capture, action: str, *gateways: GatewayCreds):
    """Run a list action, confirming it on its "Are you sure?" page where it has one."""
    selected = [str(g.id) for g in gateways]
    with capture(execute=True):
        return admin_client.post(
            CHANGELIST, {"action": action, "_selected_action": selected, "post": "yes"}, follow=True
        )


@pytest.mark.parametrize("kind", ["native", "android", "twilio", "jasmin"])
def test_the_change_and_list_pages_never_show_the_secret(admin_client, make_gateway, kind):
    gateway = make_gateway(kind)

    change = admin_client.get(f"{CHANGELIST}{gateway.id}/change/").content.decode()
    listing = admin_client.get(CHANGELIST).content.decode()

    assert gateway.secret not in change and gateway.secret not in listing
    assert f"…{gateway.secret[-4:]}" in change  # enough to tell secrets apart


def test_the_rotate_action_shows_the_new_secret_once_and_keeps_the_old_one_for_the_grace(
    admin_client, api, make_gateway, django_capture_on_commit_callbacks
):
    gateway = make_gateway("native")

    response = act(admin_client, django_capture_on_commit_callbacks, "rotate_secret", gateway)

    [message] = messages_of(response)
    new_secret = message.split(": ", 1)[1].split(" ", 1)[0]
    assert send_native(api, new_secret, "+919876543210", BODY, message_id="1").status_code == 202
    assert send_native(api, gateway.secret, "+919876543210", BODY, message_id="2").status_code == 202
    change = admin_client.get(f"{CHANGELIST}{gateway.id}/change/").content.decode()
    assert new_secret not in change


def test_rotate_now_stops_the_old_secret(admin_client, api, make_gateway, django_capture_on_commit_callbacks):
    gateway = make_gateway("native")

    act(admin_client, django_capture_on_commit_callbacks, "rotate_secret_now", gateway)

    assert send_native(api, gateway.secret, "+919876543210", BODY).status_code == 401
    assert gateway.model.secrets.count() == 1


def test_deactivate_and_activate_actions_update_the_mirror(
    admin_client, make_gateway, django_capture_on_commit_callbacks
):
    one, two = make_gateway("android"), make_gateway("twilio")

    response = act(admin_client, django_capture_on_commit_callbacks, "deactivate", one, two)

    assert "Deactivated 2 gateway(s)." in messages_of(response)
    assert get_redis().hmget(keys.gateways(), [str(one.id), str(two.id)]) == [None, None]
    act(admin_client, django_capture_on_commit_callbacks, "activate", one)
    assert get_redis().hget(keys.gateways(), str(one.id)) is not None
    assert not Gateway.objects.get(pk=two.id).is_active


def test_the_change_form_edits_the_scope_and_the_mirror_follows(
    admin_client, api, make_gateway, django_capture_on_commit_callbacks
):
    gateway = make_gateway("native")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"{CHANGELIST}{gateway.id}/change/",
            {
                "name": "India only",
                "countries": "91",
                "receiving_number": "",
                "secrets-TOTAL_FORMS": "1",
                "secrets-INITIAL_FORMS": "1",
                "secrets-MIN_NUM_FORMS": "0",
                "secrets-MAX_NUM_FORMS": "1000",
                "secrets-0-id": str(gateway.model.secrets.get().pk),
                "secrets-0-gateway": str(gateway.id),
            },
        )

    assert response.status_code == 302, response.content.decode()[-2000:]
    assert Gateway.objects.get(pk=gateway.id).countries == [91]
    assert send_native(api, gateway.secret, "+447911123456", BODY).status_code == 403


def test_the_add_form_refuses_a_receiving_number_for_a_native_gateway(admin_client):
    response = admin_client.post(
        f"{CHANGELIST}add/",
        {"kind": "native", "name": "X", "secret": "", "receiving_number": "+919000000001"},
    )

    assert response.status_code == 200
    assert "does not report" in response.content.decode()
    assert not Gateway.objects.exists()
