"""The admin's page of the inbound outbox: SMS acknowledged during a Redis outage and
still waiting, visible to operators but not editable or deletable by hand."""

import pytest

from tests.helpers import send_native

pytestmark = pytest.mark.django_db

URL = "/admin/inbound/inboundoutbox/"


def test_waiting_rows_are_listed_without_their_body_and_cannot_be_changed(
    admin_client, api, make_gateway, settings
):
    gateway = make_gateway("native")
    live = settings.REDIS_URL
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    hash_ = "ab" * 32
    sms = send_native(api, gateway.secret, "9876543210", f"ONBOARD:{hash_}", message_id="m-outage")
    settings.REDIS_URL = live

    page = admin_client.get(URL)

    assert page.status_code == 200
    assert b"m-outage" in page.content and sms.json()["uuid"].encode() in page.content
    assert hash_.encode() not in page.content  # an unused onboarding hash is a secret
    assert b"Add inbound SMS outbox row" not in page.content
    (row_id,) = page.context["cl"].result_list.values_list("id", flat=True)
    assert admin_client.post(f"{URL}{row_id}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.get(f"{URL}add/").status_code == 403
