"""The sending adapters against local servers that speak each provider's API: the exact
requests on the wire, the id each returns, and which failures are the gateway's and
which the message's."""

import logging
import uuid
from typing import Any

import pytest

from apps.inbound.send_config import SendConfig
from apps.messaging.models import OutboxMessage
from apps.messaging.providers import provider_for
from apps.messaging.providers.android import AndroidProvider
from apps.messaging.providers.base import (
    GatewayError,
    Lookup,
    MessageRejected,
    OutboundMessage,
    SendingGateway,
)
from apps.messaging.providers.console import ConsoleProvider
from apps.messaging.providers.jasmin import JasminProvider
from apps.messaging.providers.smtp import SmtpProvider
from apps.messaging.providers.twilio import TwilioProvider
from apps.messaging.receipt_urls import jasmin_dlr_url
from apps.messaging.services.routing import sending_gateway
from tests.helpers import GatewayCreds

from .providers import AndroidGatewayServer, JasminServer, SmtpServer, TwilioServer, refused_url

pytestmark = pytest.mark.django_db

TO = "+919876543210"
BODY = "Your code is 123456"
PUBLIC = "https://bridge.example"


def sms(body: str = BODY, to: str = TO) -> OutboundMessage:
    return OutboundMessage(id=str(uuid.uuid4()), channel="sms", to=to, body=body, sensitive=True)


def email(to: str = "ada@example.com") -> OutboundMessage:
    return OutboundMessage(id=str(uuid.uuid4()), channel="email", to=to, subject="Your code", body=BODY)


def sending(gateway: GatewayCreds, **changes: Any) -> SendingGateway:
    """The gateway as the sender sees it (its password decrypted), optionally changed."""
    found = sending_gateway(gateway.model)
    return SendingGateway(**{**found.__dict__, **changes})


@pytest.fixture
def short_timeout(settings: Any) -> float:
    settings.NOTIFICATION_SEND_TIMEOUT = 0.3
    return 0.3


def test_each_kind_that_sends_has_its_adapter() -> None:
    kinds = {"android": AndroidProvider, "twilio": TwilioProvider, "jasmin": JasminProvider}
    kinds |= {"smtp": SmtpProvider, "console": ConsoleProvider}
    assert {kind: type(provider_for(kind)) for kind in kinds} == kinds
    with pytest.raises(LookupError):
        provider_for("native")


# --- SMS Gateway for Android -------------------------------------------------------------
def test_android_posts_the_message_with_basic_auth_and_the_notification_id(
    android_gateway: GatewayCreds, android_server: AndroidGatewayServer
) -> None:
    message = sms()

    sent = AndroidProvider().send(sending(android_gateway), message)

    assert sent.provider_id == message.id
    [request] = android_server.requests
    assert (request.method, request.path) == ("POST", "/messages")
    assert request.basic_auth() == (android_server.login, android_server.password)
    assert request.json() == {
        "id": message.id,
        "phoneNumbers": [TO],
        "textMessage": {"text": BODY},
        "withDeliveryReport": True,
        "isEncrypted": False,
        "priority": 0,
    }


def test_android_sending_the_same_notification_again_reaches_the_phone_once(
    android_gateway: GatewayCreds, android_server: AndroidGatewayServer
) -> None:
    message = sms()

    first = AndroidProvider().send(sending(android_gateway), message)
    again = AndroidProvider().send(sending(android_gateway), message)

    assert first == again
    assert android_server.sends[message.id] == 2
    assert list(android_server.messages) == [message.id]


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429, 401, 403])
def test_android_server_errors_and_refused_credentials_are_the_gateways_failure(
    android_gateway: GatewayCreds, android_server: AndroidGatewayServer, status: int
) -> None:
    android_server.fail(status)

    with pytest.raises(GatewayError, match=str(status)):
        AndroidProvider().send(sending(android_gateway), sms())


def test_android_wrong_password_is_the_gateways_failure(
    android_gateway: GatewayCreds, android_server: AndroidGatewayServer
) -> None:
    with pytest.raises(GatewayError, match="401"):
        AndroidProvider().send(sending(android_gateway, password="wrong"), sms())


def test_android_refusing_the_number_rejects_the_message(
    android_gateway: GatewayCreds, android_server: AndroidGatewayServer
) -> None:
    android_server.invalid_numbers.add(TO)

    with pytest.raises(MessageRejected) as refused:
        AndroidProvider().send(sending(android_gateway), sms())
    assert TO not in str(refused.value)  # the number is masked in the error kept


def test_android_unreachable_or_late_is_the_gateways_failure(
    android_gateway: GatewayCreds, android_server: AndroidGatewayServer, short_timeout: float
) -> None:
    with pytest.raises(GatewayError, match="unreachable"):
        AndroidProvider().send(sending(android_gateway, url=refused_url()), sms())

    android_server.delay = short_timeout * 4
    with pytest.raises(GatewayError, match="Timeout"):
        AndroidProvider().send(sending(android_gateway), sms())


def test_android_lookup_asks_the_phone_by_notification_id(
    android_gateway: GatewayCreds, android_server: AndroidGatewayServer
) -> None:
    gateway, message = sending(android_gateway), sms()
    assert AndroidProvider().lookup(gateway, message) == (Lookup.NOT_SENT, "")

    AndroidProvider().send(gateway, message)

    assert AndroidProvider().lookup(gateway, message) == (Lookup.SENT, message.id)
    lookup = android_server.requests[-1]
    assert (lookup.method, lookup.path) == ("GET", f"/messages/{message.id}")
    assert lookup.basic_auth() == (android_server.login, android_server.password)


def test_android_lookup_that_cannot_ask_says_unknown(
    android_gateway: GatewayCreds, android_server: AndroidGatewayServer
) -> None:
    android_server.fail(500)
    assert AndroidProvider().lookup(sending(android_gateway), sms()) == (Lookup.UNKNOWN, "")
    gone = sending(android_gateway, url=refused_url())
    assert AndroidProvider().lookup(gone, sms()) == (Lookup.UNKNOWN, "")


# --- Twilio --------------------------------------------------------------------------------
def test_twilio_posts_the_form_to_messages_json_and_returns_the_sid(
    twilio_gateway: GatewayCreds, twilio_server: TwilioServer, settings: Any
) -> None:
    settings.PUBLIC_BASE_URL = PUBLIC

    sent = TwilioProvider().send(sending(twilio_gateway), sms())

    [request] = twilio_server.requests
    assert (request.method, request.path) == ("POST", twilio_server.messages_path)
    assert request.basic_auth() == (twilio_server.account_sid, twilio_server.auth_token)
    assert request.form() == {
        "To": TO,
        "From": "+15005550006",
        "Body": BODY,
        "StatusCallback": f"{PUBLIC}/notifications/receipts/twilio/{twilio_gateway.id}",
    }
    assert sent.provider_id == twilio_server.created[0]["sid"]
    assert sent.provider_id.startswith("SM")


def test_twilio_asks_for_no_status_callback_without_a_public_address(
    twilio_gateway: GatewayCreds, twilio_server: TwilioServer
) -> None:
    TwilioProvider().send(sending(twilio_gateway), sms())

    assert "StatusCallback" not in twilio_server.requests[0].form()


def test_twilio_invalid_number_rejects_the_message(
    twilio_gateway: GatewayCreds, twilio_server: TwilioServer
) -> None:
    twilio_server.invalid_numbers.add(TO)

    with pytest.raises(MessageRejected, match="21211") as refused:
        TwilioProvider().send(sending(twilio_gateway), sms())
    assert TO not in str(refused.value)


@pytest.mark.parametrize("code", [21614, 21610, 21612, 21408, 21617])
def test_twilio_errors_about_the_destination_or_body_reject_the_message(
    twilio_gateway: GatewayCreds, twilio_server: TwilioServer, code: int
) -> None:
    twilio_server.fail_with(code, 400)

    with pytest.raises(MessageRejected, match=str(code)):
        TwilioProvider().send(sending(twilio_gateway), sms())


@pytest.mark.parametrize(
    ("code", "status"),
    [(20003, 401), (20003, 403), (20429, 429), (20500, 500), (20503, 503), (21212, 400), (21606, 400)],
)
def test_twilio_account_limits_and_outages_are_the_gateways_failure(
    twilio_gateway: GatewayCreds, twilio_server: TwilioServer, code: int, status: int
) -> None:
    twilio_server.fail_with(code, status)

    with pytest.raises(GatewayError, match=str(code)):
        TwilioProvider().send(sending(twilio_gateway), sms())


def test_twilio_wrong_auth_token_is_the_gateways_failure(
    twilio_gateway: GatewayCreds, twilio_server: TwilioServer
) -> None:
    with pytest.raises(GatewayError, match="20003"):
        TwilioProvider().send(sending(twilio_gateway, password="not-the-token"), sms())


def test_twilio_unreachable_or_late_is_the_gateways_failure(
    twilio_gateway: GatewayCreds, twilio_server: TwilioServer, short_timeout: float
) -> None:
    with pytest.raises(GatewayError, match="unreachable"):
        TwilioProvider().send(sending(twilio_gateway, url=refused_url()), sms())

    twilio_server.delay = short_timeout * 4
    with pytest.raises(GatewayError, match="Timeout"):
        TwilioProvider().send(sending(twilio_gateway), sms())


def test_twilio_cannot_be_asked_about_a_lost_send(twilio_gateway: GatewayCreds) -> None:
    assert TwilioProvider().lookup(sending(twilio_gateway), sms()) == (Lookup.UNKNOWN, "")


# --- Jasmin --------------------------------------------------------------------------------
def test_jasmin_posts_send_with_a_signed_dlr_url_and_returns_its_message_id(
    jasmin_gateway: GatewayCreds, jasmin_server: JasminServer, settings: Any
) -> None:
    settings.PUBLIC_BASE_URL = PUBLIC
    message = sms()

    sent = JasminProvider().send(sending(jasmin_gateway), message)

    [request] = jasmin_server.requests
    assert (request.method, request.path) == ("POST", "/send")
    assert request.form() == {
        "username": jasmin_server.username,
        "password": jasmin_server.password,
        "to": TO.removeprefix("+"),
        "from": "Bridge",
        "coding": "0",
        "content": BODY,
        "dlr": "yes",
        "dlr-url": jasmin_dlr_url(str(jasmin_gateway.id), message.id),
        "dlr-level": "3",
        "dlr-method": "POST",
    }
    assert request.form()["dlr-url"].startswith(
        f"{PUBLIC}/notifications/receipts/jasmin/{jasmin_gateway.id}?n="
    )
    assert list(jasmin_server.sent) == [sent.provider_id]


def test_jasmin_sends_other_scripts_as_ucs2_hex(
    jasmin_gateway: GatewayCreds, jasmin_server: JasminServer
) -> None:
    JasminProvider().send(sending(jasmin_gateway), sms(body="कोड 123 🚀"))

    form = jasmin_server.requests[0].form()
    assert form["coding"] == "8"
    assert "content" not in form
    assert bytes.fromhex(form["hex-content"]).decode("utf-16-be") == "कोड 123 🚀"
    assert "dlr" not in form  # no public address: no receipt asked for


def test_jasmin_refusing_the_destination_rejects_the_message(
    jasmin_gateway: GatewayCreds, jasmin_server: JasminServer
) -> None:
    jasmin_server.fail(400, f'Error "Argument [to] has an invalid value: [{TO[1:]}]."'.encode(), "text/plain")

    with pytest.raises(MessageRejected, match="invalid value") as refused:
        JasminProvider().send(sending(jasmin_gateway), sms())
    assert TO[1:] not in str(refused.value)


def test_jasmin_refusing_the_account_or_the_route_is_the_gateways_failure(
    jasmin_gateway: GatewayCreds, jasmin_server: JasminServer
) -> None:
    with pytest.raises(GatewayError, match="403: Authentication failure"):
        JasminProvider().send(sending(jasmin_gateway, password="wrong"), sms())

    jasmin_server.no_route_numbers.add(TO[1:])
    with pytest.raises(GatewayError, match="412: No route found"):
        JasminProvider().send(sending(jasmin_gateway), sms())


@pytest.mark.parametrize("status", [500, 503])
def test_jasmin_outage_is_the_gateways_failure(
    jasmin_gateway: GatewayCreds, jasmin_server: JasminServer, status: int
) -> None:
    jasmin_server.fail(
        status, b'Error "Cannot send submit_sm, check SMPPClientManagerPB log file for details"'
    )

    with pytest.raises(GatewayError, match=str(status)):
        JasminProvider().send(sending(jasmin_gateway), sms())


def test_jasmin_unreachable_or_late_is_the_gateways_failure(
    jasmin_gateway: GatewayCreds, jasmin_server: JasminServer, short_timeout: float
) -> None:
    with pytest.raises(GatewayError, match="unreachable"):
        JasminProvider().send(sending(jasmin_gateway, url=refused_url()), sms())

    jasmin_server.delay = short_timeout * 4
    with pytest.raises(GatewayError, match="Timeout"):
        JasminProvider().send(sending(jasmin_gateway), sms())


# --- SMTP ----------------------------------------------------------------------------------
def test_smtp_sends_through_the_gateways_server_with_our_message_id(
    smtp_gateway: GatewayCreds, smtp_server: SmtpServer
) -> None:
    message = email()

    sent = SmtpProvider().send(sending(smtp_gateway), message)

    [mail] = smtp_server.received
    assert (mail.mail_from, mail.rcpt_tos) == ("codes@bridge.example", ["ada@example.com"])
    assert mail.message["Message-ID"] == sent.provider_id
    assert sent.provider_id.endswith("@bridge.example>")
    assert mail.message["Subject"] == "Your code"
    assert str(mail.message.get_payload()).strip() == BODY


def test_smtp_without_a_url_uses_the_email_settings(
    make_gateway: Any, smtp_server: SmtpServer, settings: Any
) -> None:
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_server.port
    settings.DEFAULT_FROM_EMAIL = "bridge@example.org"
    gateway = make_gateway("smtp")

    SmtpProvider().send(sending(gateway), email())

    assert smtp_server.received[0].mail_from == "bridge@example.org"


def test_smtp_refused_recipient_rejects_the_message(
    smtp_gateway: GatewayCreds, smtp_server: SmtpServer
) -> None:
    smtp_server.recorder.refused.add("nobody@example.com")

    with pytest.raises(MessageRejected, match="550"):
        SmtpProvider().send(sending(smtp_gateway), email(to="nobody@example.com"))
    assert smtp_server.received == []


def test_smtp_unreachable_server_is_the_gateways_failure(make_gateway: Any) -> None:
    gateway = make_gateway("smtp", send=SendConfig(url=refused_url("smtp")))

    with pytest.raises(GatewayError, match="ConnectionRefusedError"):
        SmtpProvider().send(sending(gateway), email())


# --- console -------------------------------------------------------------------------------
def test_console_keeps_the_message_in_the_outbox_once_and_logs_no_body(
    make_gateway: Any, caplog: pytest.LogCaptureFixture
) -> None:
    gateway, message = sending(make_gateway("console")), sms()

    with caplog.at_level(logging.INFO, logger="apps.messaging.providers.console"):
        first = ConsoleProvider().send(gateway, message)
        again = ConsoleProvider().send(gateway, message)  # a replay after a lost worker

    assert first == again
    assert first.provider_id == f"console-{message.id}"
    [row] = OutboxMessage.objects.all()
    assert (str(row.notification_id), row.to, row.body, str(row.gateway_id)) == (
        message.id,
        TO,
        BODY,
        gateway.id,
    )
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "+********3210" in logged
    assert TO not in logged and "123456" not in logged


def test_console_lookup_finds_what_the_outbox_holds(make_gateway: Any) -> None:
    gateway, message = sending(make_gateway("console")), email()
    assert ConsoleProvider().lookup(gateway, message) == (Lookup.NOT_SENT, "")

    ConsoleProvider().send(gateway, message)

    assert ConsoleProvider().lookup(gateway, message) == (Lookup.SENT, f"console-{message.id}")


@pytest.mark.django_db
def test_the_console_keeps_a_message_whose_gateway_was_deleted_meanwhile(make_gateway: Any) -> None:
    from apps.inbound.models import Gateway
    from apps.messaging.models import OutboxMessage
    from apps.messaging.providers.base import OutboundMessage
    from apps.messaging.providers.console import ConsoleProvider
    from apps.messaging.services.routing import sending_gateway

    gateway = make_gateway("console")
    config = sending_gateway(gateway.model)
    Gateway.objects.filter(id=gateway.id).delete()
    message = OutboundMessage(
        id="6f1c3c55-0000-4000-8000-00000000000a", channel="sms", to="+919876543210", body="hi"
    )
    ConsoleProvider().send(config, message)
    assert OutboxMessage.objects.get(notification_id=message.id).gateway_id is None
