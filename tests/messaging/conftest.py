"""Fixtures for the sending side: the providers' local servers, and gateways that use them."""

from collections.abc import Iterator
from typing import Any

import pytest

from apps.inbound.send_config import SendConfig
from tests.helpers import GatewayCreds

from .providers import AndroidGatewayServer, JasminServer, SmtpServer, TwilioServer


@pytest.fixture
def android_server() -> Iterator[AndroidGatewayServer]:
    server = AndroidGatewayServer()
    yield server
    server.stop()


@pytest.fixture
def twilio_server() -> Iterator[TwilioServer]:
    server = TwilioServer()
    yield server
    server.stop()


@pytest.fixture
def jasmin_server() -> Iterator[JasminServer]:
    server = JasminServer()
    yield server
    server.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
def android_gateway(make_gateway: Any, android_server: AndroidGatewayServer) -> GatewayCreds:
    send = SendConfig(url=android_server.url, username=android_server.login, password=android_server.password)
    return make_gateway("android", send=send)


@pytest.fixture
def twilio_gateway(make_gateway: Any, twilio_server: TwilioServer) -> GatewayCreds:
    """A Twilio gateway whose secret is the auth token: it signs callbacks and authenticates sends."""
    send = SendConfig(url=twilio_server.url, username=twilio_server.account_sid, from_="+15005550006")
    return make_gateway("twilio", secret=twilio_server.auth_token, send=send)


@pytest.fixture
def jasmin_gateway(make_gateway: Any, jasmin_server: JasminServer) -> GatewayCreds:
    send = SendConfig(
        url=jasmin_server.url,
        username=jasmin_server.username,
        password=jasmin_server.password,
        from_="Bridge",
    )
    return make_gateway("jasmin", send=send)


@pytest.fixture
def smtp_gateway(make_gateway: Any, smtp_server: SmtpServer) -> GatewayCreds:
    return make_gateway("smtp", send=SendConfig(url=smtp_server.url, from_="codes@bridge.example"))
