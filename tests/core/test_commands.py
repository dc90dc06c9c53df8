import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.clients.models import ApiKey, Client
from apps.core.crypto import token_hash
from apps.inbound.models import Gateway
from tests.polling import wait_for


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_create_client_prints_a_key_that_is_stored_hashed():
    out = json.loads(run("create_client", "Shop", "--webhook-url", "https://shop.example/hook", "--json"))

    client = Client.objects.get(id=out["client_id"])
    assert client.webhook_url == "https://shop.example/hook"
    assert out["webhook_secret"].startswith("whsec_")
    key = ApiKey.objects.get(client=client)
    assert key.key_hash == token_hash(out["api_key"])
    assert out["api_key"] not in key.key_hash


@pytest.mark.django_db
def test_create_gateway_prints_id_kind_and_secret():
    out = json.loads(run("create_gateway", "android", "Phone 1", "--secret", "s" * 20, "--json"))

    assert out["kind"] == "android"
    assert out["secret"] == "s" * 20
    assert Gateway.objects.get(id=out["gateway_id"]).kind == "android"


@pytest.mark.django_db
def test_create_gateway_generates_a_secret_and_refuses_short_ones():
    out = json.loads(run("create_gateway", "jasmin", "SMSC", "--json"))
    assert len(out["secret"]) >= 32

    with pytest.raises(CommandError):
        run("create_gateway", "native", "weak", "--secret", "short")


@pytest.mark.slow
def test_simulate_sms_drives_the_flow_and_prints_the_verdict(celery_worker):
    run("bootstrap_demo")

    out = run("simulate_sms", "+919876543210")

    verdict = json.loads(out.strip().splitlines()[-1])
    assert verdict["status"] == "valid"
    assert verdict["mobile_number"] == "9876543210"
    assert wait_for(lambda: __import__("apps.onboarding.models", fromlist=["OutSms"]).OutSms.objects.exists())


@pytest.mark.slow
def test_simulate_sms_reports_a_failed_check(celery_worker):
    run("bootstrap_demo")

    out = run("simulate_sms", "9876543211", "--message", "ONBOARD:nope")

    assert json.loads(out.strip().splitlines()[-1])["reason"] == "header_hash"
