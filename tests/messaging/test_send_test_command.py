"""manage.py send_test: one message now, through one gateway, straight to its provider.

A console gateway writes to the outbox; a local HTTP server stands in for SMS Gateway for
Android's API (POST /messages with basic auth, answered 202 as the app answers).
"""

import base64
import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from apps.core import keys
from apps.core.redis import get_redis
from apps.inbound.send_config import SendConfig
from apps.inbound.services import gateway_deactivate
from apps.messaging.models import Notification, OutboxMessage
from apps.messaging.services.routing import routes_forget

pytestmark = pytest.mark.django_db

TO = "+919876543210"


@pytest.fixture(autouse=True)
def _fresh_routes() -> Any:
    routes_forget()
    yield
    routes_forget()


def run(*args: str) -> list[str]:
    out = StringIO()
    call_command("send_test", *args, stdout=out)
    return out.getvalue().splitlines()


def refused(*args: str) -> str:
    with pytest.raises(CommandError) as caught:
        run(*args)
    return str(caught.value)


def android_accepts(request: Request) -> Response:
    message = json.loads(request.data)
    recipients = [{"phoneNumber": number, "state": "Pending"} for number in message["phoneNumbers"]]
    answer = {"id": message["id"], "state": "Pending", "recipients": recipients}
    return Response(json.dumps(answer), status=202, content_type="application/json")


def android(make_gateway: Any, server: HTTPServer, **send: Any) -> Any:
    config = SendConfig(url=server.url_for("/"), username="sms", password="phone-pass", **send)
    return make_gateway("android", send=config)


def test_a_console_gateway_keeps_the_sms_in_the_outbox(make_gateway):
    console = make_gateway("console")

    lines = run("console", "98765 43210", "--body", "Test code 424242")

    message = OutboxMessage.objects.get()
    assert (message.channel, message.to, message.body, message.gateway_id) == (
        "sms",
        TO,
        "Test code 424242",
        console.id,
    )
    assert lines == [
        f"Sent sms to {TO} through console gateway (console, sends SMS and email).",
        f"Provider message id: console-{message.notification_id}",
    ]
    assert not Notification.objects.exists() and get_redis().llen(keys.notification_queue()) == 0


def test_a_console_gateway_takes_an_email_address_and_a_subject(make_gateway):
    make_gateway("console")

    run("console", "dev@example.com", "--subject", "Hello from the bridge")

    message = OutboxMessage.objects.get()
    assert (message.channel, message.to, message.subject) == (
        "email",
        "dev@example.com",
        "Hello from the bridge",
    )
    assert "send_test" in message.body  # the default body says where it came from


def test_the_gateway_is_picked_by_id_or_by_name(make_gateway):
    first = make_gateway("console")

    run(str(first.id), TO)
    run("console gateway", "dev@example.com")

    assert set(OutboxMessage.objects.values_list("gateway_id", flat=True)) == {first.id}
    assert OutboxMessage.objects.count() == 2


def test_an_android_gateway_gets_the_message_through_its_api(make_gateway, httpserver: HTTPServer):
    httpserver.expect_request("/messages", method="POST").respond_with_handler(android_accepts)
    phone = android(make_gateway, httpserver)

    lines = run("android", TO, "--body", "Hello from send_test")

    [(request, response)] = httpserver.log
    sent = json.loads(request.data)
    assert sent["phoneNumbers"] == [TO] and sent["textMessage"]["text"] == "Hello from send_test"
    login = base64.b64decode(request.headers["Authorization"].split()[1]).decode()
    assert login == "sms:phone-pass"
    assert response.status_code == 202
    assert lines[0] == f"Sent sms to {TO} through {phone.name} (android, sends SMS)."
    assert lines[1] == f"Provider message id: {sent['id']}"


def test_a_gateway_that_fails_ends_in_one_error_naming_it(make_gateway, httpserver: HTTPServer):
    httpserver.expect_request("/messages", method="POST").respond_with_json({"message": "busy"}, status=503)
    android(make_gateway, httpserver)

    message = refused("android", TO)

    assert message.startswith("android gateway (android, sends SMS) failed: android gateway answered 503")
    assert "\n" not in message


def test_a_destination_the_gateway_cannot_serve_is_refused_before_sending(
    make_gateway, httpserver: HTTPServer
):
    android(make_gateway, httpserver)
    make_gateway("smtp", send=SendConfig(from_="bridge@example.com"))

    assert (
        refused("android", "dev@example.com")
        == "android gateway sends SMS: 'dev@example.com' is not a valid phone number."
    )
    assert refused("smtp", TO) == f"smtp gateway sends email: '{TO}' is not an email address."
    assert httpserver.log == []


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("twilio", "No active twilio gateway is set up to send."),
        ("Nobody", "No gateway is named 'Nobody' (nor is it a gateway id or kind)."),
        (
            "00000000-0000-0000-0000-000000000001",
            "No gateway has the id 00000000-0000-0000-0000-000000000001.",
        ),
    ],
)
def test_a_gateway_that_cannot_be_found_is_named_in_the_error(target, message):
    assert refused(target, TO) == message


def test_a_kind_picks_only_active_sending_gateways_but_an_id_may_try_an_inactive_one(
    make_gateway, django_capture_on_commit_callbacks
):
    console = make_gateway("console")
    receive_only = make_gateway("android")  # no send URL
    with django_capture_on_commit_callbacks(execute=True):
        gateway_deactivate(gateway=console.model)

    assert refused("console", TO) == "No active console gateway is set up to send."
    assert "android gateway (android) is not set up to send" in refused(str(receive_only.id), TO)
    run(str(console.id), TO)
    assert OutboxMessage.objects.count() == 1
