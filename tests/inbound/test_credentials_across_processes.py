"""A change of credentials reaches another web process within CREDENTIAL_LOCAL_CACHE_SECONDS.

The other process is a real gunicorn serving the app on a free port, against the same
test database and Redis; it caches credential lookups in its own memory.
"""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from apps.clients.models import Client
from apps.clients.services import client_activate, client_create, client_deactivate
from apps.inbound.services import gateway_create, gateway_deactivate, gateway_rotate
from tests.helpers import android_headers, android_payload, now_iso
from tests.polling import wait_for
from tests.processes import gunicorn_server

pytestmark = pytest.mark.slow

CACHE_SECONDS = 1.0
SLACK_SECONDS = 10.0  # process scheduling on a busy machine; the bound is cache + slack
BODY = "ONBOARD:" + "a" * 64


@pytest.fixture
def web(database_url: str, tmp_path: Path) -> Iterator[str]:
    env = {"CREDENTIAL_LOCAL_CACHE_SECONDS": str(CACHE_SECONDS), "LOG_LEVEL": "WARNING"}
    with gunicorn_server(database_url, tmp_path / "gunicorn.log", env=env) as base:
        yield base


def native_status(base: str, token: str, message_id: str) -> int:
    payload = {"sender_number": "+919876543210", "sms_message": BODY, "received_timestamp": now_iso(),
               "message_id": message_id}  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    return requests.post(f"{base}/sms/receive", json=payload, headers=headers, timeout=5).status_code


def android_status(base: str, gateway_id: str, secret: str, event_id: str) -> int:
    raw = android_payload("+919876543210", BODY, event_id)
    meta = android_headers(secret, raw)
    headers = {"X-Signature": meta["HTTP_X_SIGNATURE"], "X-Timestamp": meta["HTTP_X_TIMESTAMP"]}
    headers["Content-Type"] = "application/json"
    url = f"{base}/sms/receive/android/{gateway_id}"
    return requests.post(url, data=raw, headers=headers, timeout=5).status_code


def client_status(base: str, api_key: str) -> int:
    headers = {"Authorization": f"Bearer {api_key}"}
    return requests.get(f"{base}/onboard/status/9876543210", headers=headers, timeout=5).status_code


def refused_within(check, bound: float) -> float:
    """Seconds until ``check()`` says refused; fails past ``bound``."""
    started = time.monotonic()
    wait_for(check, timeout=bound, message="the other process to refuse the credential")
    return time.monotonic() - started


def test_a_deactivated_gateway_is_refused_by_another_process(web):
    gateway, token = gateway_create(kind="native", name="Shop")
    assert native_status(web, token, "warm") == 202  # the other process now caches the gateway

    gateway_deactivate(gateway=gateway)

    counter = iter(range(1, 10_000))
    refused_within(
        lambda: native_status(web, token, f"m{next(counter)}") == 401, CACHE_SECONDS + SLACK_SECONDS
    )


def test_a_secret_rotated_without_grace_stops_in_another_process_and_the_new_one_works_at_once(web):
    gateway, old = gateway_create(kind="native", name="Shop")
    assert native_status(web, old, "warm") == 202

    new = gateway_rotate(gateway=gateway, grace_seconds=0)

    assert native_status(web, new, "new-1") == 202  # never cached as unknown
    counter = iter(range(1, 10_000))
    refused_within(lambda: native_status(web, old, f"m{next(counter)}") == 401, CACHE_SECONDS + SLACK_SECONDS)


def test_a_new_hmac_key_is_accepted_at_once_by_a_process_that_cached_the_old_one(web):
    gateway, old = gateway_create(kind="android", name="Phone")
    assert android_status(web, str(gateway.id), old, "warm") == 202

    new = gateway_rotate(gateway=gateway, grace_seconds=60)

    assert android_status(web, str(gateway.id), new, "new") == 202
    assert android_status(web, str(gateway.id), old, "old") == 202  # the grace period


def test_a_deactivated_client_is_refused_by_another_process_and_back_after_activation(web):
    client, api_key = client_create(name="Acme")
    assert client_status(web, api_key) != 401

    client_deactivate(client=client)
    refused_within(lambda: client_status(web, api_key) == 401, CACHE_SECONDS + SLACK_SECONDS)

    client_activate(client=Client.objects.get(pk=client.pk))
    wait_for(
        lambda: client_status(web, api_key) != 401,
        timeout=CACHE_SECONDS + SLACK_SECONDS,
        message="the key to work again",
    )
