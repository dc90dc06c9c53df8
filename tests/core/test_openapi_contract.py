"""The OpenAPI contract: committed as docs/integration_openapi.yaml, never drifting, fuzzed."""

from io import StringIO
from pathlib import Path

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from smsbridge.wsgi import application

CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "integration_openapi.yaml"


def test_the_generated_schema_matches_the_committed_contract(tmp_path):
    generated = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(generated), stdout=StringIO())

    assert generated.read_text() == CONTRACT.read_text(), (
        "The API changed without its contract: run `make schema` and commit docs/integration_openapi.yaml"
    )


def test_the_contract_describes_every_endpoint_and_auth_scheme():
    import yaml

    contract = yaml.safe_load(CONTRACT.read_text())

    assert set(contract["paths"]) >= {
        "/onboard/register/{mobile_number}",
        "/onboard/status/{mobile_number}",
        "/onboard/qr/{mobile_number}",
        "/sms/receive",
        "/sms/receive/android/{gateway_id}",
        "/sms/receive/twilio/{gateway_id}",
        "/sms/receive/jasmin/{gateway_id}",
        "/health",
        "/health/live",
        "/health/ready",
    }
    assert set(contract["components"]["securitySchemes"]) == {
        "apiKey",
        "gatewayToken",
        "androidSignature",
        "twilioSignature",
        "jasminToken",
    }
    register = contract["paths"]["/onboard/register/{mobile_number}"]["get"]
    assert {"200", "400", "401", "403", "409", "429"} <= set(register["responses"])


schema = schemathesis.openapi.from_path(CONTRACT)  # the committed contract, not a fresh copy
schema.app = application


@pytest.fixture
def credentials(client_creds, make_gateway, settings):
    # A followed event stream ends after EVENT_STREAM_MAX_SECONDS: make that a moment.
    settings.EVENT_STREAM_MAX_SECONDS = 0.2
    settings.EVENT_STREAM_KEEPALIVE_SECONDS = 0.1
    # Requests go through the real WSGI app; keep Django from closing the test's
    # connection at the end of each one, as its own test client does.
    request_finished.disconnect(close_old_connections)
    yield {"client": client_creds.api_key, "gateway": make_gateway("native").secret}
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_fuzzing_the_api_finds_no_server_error_and_no_response_outside_the_schema(case, credentials):
    token = credentials["gateway"] if case.path == "/sms/receive" else credentials["client"]
    # Every check but "schema-valid data is accepted": whether "0" is a mobile number is
    # phonenumbers' call, which no JSON schema can express, so such a 400 is correct.
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"}, excluded_checks=[positive_data_acceptance]
    )
