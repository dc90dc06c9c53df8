"""manage.py create_gateway with sending settings, as an operator sets up a sending gateway."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import resolve

from apps.core.models import OperatorAction
from apps.inbound.models import Gateway

pytestmark = pytest.mark.django_db

ANDROID = [
    "--send-url",
    "https://phone.example:8443/",
    "--send-username",
    "sms",
    "--send-password",
    "phone-pass-9",
    "--send-from",
    "+919876543210",
    "--priority",
    "5",
]


def run(*args: str) -> str:
    out = StringIO()
    call_command("create_gateway", *args, stdout=out)
    return out.getvalue()


def refused(*args: str) -> str:
    with pytest.raises(CommandError) as caught:
        run(*args)
    return str(caught.value)


def test_an_android_gateway_gets_its_sending_settings_and_the_json_says_it_sends():
    out = json.loads(run("android", "Phone 1", "--countries", "91", *ANDROID, "--json"))

    assert set(out) == {"gateway_id", "kind", "secret", "sends"}
    assert (out["kind"], out["sends"]) == ("android", True) and len(out["secret"]) >= 16
    gateway = Gateway.objects.get(pk=out["gateway_id"])
    assert (gateway.send_url, gateway.send_username, gateway.send_from, gateway.priority) == (
        "https://phone.example:8443",
        "sms",
        "+919876543210",
        5,
    )
    assert gateway.send_password == "phone-pass-9" and gateway.countries == [91]
    action = OperatorAction.objects.get(action="gateway.create")
    assert "phone-pass-9" not in json.dumps([action.summary, action.changes])


def test_the_text_output_shows_the_sending_settings_and_receipt_path_but_never_the_password():
    text = run("android", "Phone 1", *ANDROID)

    gateway = Gateway.objects.get(name="Phone 1")
    lines = text.splitlines()
    assert (
        "Sends:   SMS; url https://phone.example:8443, username sms, password set, from +919876543210, priority 5"
        in lines
    )
    assert f"Delivery receipts: POST /notifications/receipts/android/{gateway.id}" in lines
    assert "phone-pass-9" not in text
    assert f"Endpoint: POST /sms/receive/android/{gateway.id}" in lines and "Secret:" in text


@pytest.mark.parametrize("kind", ["android", "twilio", "jasmin"])
def test_the_receipt_path_printed_is_the_bridges_receipt_endpoint(kind):
    sending = ["--send-username", "AC0123456789abcdef"] if kind == "twilio" else ANDROID[:4]

    text = run(kind, "Sender", *sending)

    [line] = [line for line in text.splitlines() if line.startswith("Delivery receipts: POST ")]
    path = line.removeprefix("Delivery receipts: POST ")
    assert resolve(path).url_name == f"notification-receipt-{kind}"


@pytest.mark.parametrize(
    ("kind", "sending", "sends"),
    [
        ("smtp", ["--send-url", "smtp://mail.example:587", "--send-from", "codes@bridge.example"], "email"),
        ("console", [], "SMS and email"),
    ],
)
def test_send_only_gateways_get_no_secret_and_no_receipt_path(kind, sending, sends):
    out = json.loads(run(kind, "Sender", *sending, "--json"))
    text = run(kind, "Sender 2", *sending)

    assert (out["secret"], out["sends"]) == ("", True)
    assert not Gateway.objects.get(pk=out["gateway_id"]).secrets.exists()
    assert "Secret:" not in text and "shown only once" not in text and "Delivery receipts" not in text
    assert f"Sends:   {sends}; " in text
    assert "Endpoint: none: it only sends" in text


def test_a_gateway_without_its_sending_api_says_it_does_not_send():
    out = json.loads(run("android", "Receiver", "--json"))
    text = run("native", "Shop")

    assert out["sends"] is False
    assert "Sends:   no (give --send-url, or --send-username for Twilio, to send through it)" in text
    assert "Delivery receipts" not in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("android", "X", "--send-url", "ftp://phone.example"), "is not http://host or https://host"),
        (("android", "X", "--send-url", "https://phone.example"), "basic auth: give --send-username"),
        (("native", "X", "--send-url", "https://x.example"), "A native gateway only receives"),
        (("twilio", "X", "--send-username", "sms"), "the Account SID, which starts with AC"),
        (("smtp", "X", "--send-from", "not-an-address"), "'not-an-address' is not an email address."),
        (("console", "X", "--secret", "s" * 20), "A console gateway only sends: it takes no secret."),
        (("android", "X", "--priority", "-1"), "priority must be between 0 and 1000000."),
    ],
)
def test_bad_sending_settings_are_refused_with_a_clear_message(args, message):
    assert message in refused(*args)
    assert not Gateway.objects.exists()


def test_priority_must_be_a_number():
    assert "invalid int value: 'first'" in refused("android", "X", "--priority", "first")
