"""manage.py create_gateway and gateway rotate|deactivate|activate, as operators run them."""

import json
import subprocess
import sys
import uuid
from io import StringIO

import pytest
from django.core.management import call_command

from apps.core import keys
from apps.core.redis import get_redis
from apps.inbound.models import Gateway
from tests.helpers import send_native

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
BODY = "ONBOARD:" + "a" * 64


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def manage(database_url: str, *args: str) -> subprocess.CompletedProcess:
    """The command in a process of its own, as an operator's shell runs it."""
    env = {**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "smsbridge.settings_test"}
    env["DATABASE_URL"] = database_url
    env["LOG_LEVEL"] = "WARNING"  # apps' start-up INFO lines are not the command's output
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.django_db(transaction=True)
def test_create_gateway_takes_a_scope_and_prints_the_secret_once(api):
    out = json.loads(run("create_gateway", "native", "Shop", "--countries", "91,44", "--json"))

    assert set(out) == {"gateway_id", "kind", "secret", "sends"}
    gateway = Gateway.objects.get(pk=out["gateway_id"])
    assert gateway.countries == [44, 91]
    assert send_native(api, out["secret"], "+919876543210", BODY).status_code == 202
    assert send_native(api, out["secret"], "+15005550006", BODY).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_rotate_prints_exactly_id_kind_and_secret_and_the_new_secret_works(api):
    created = json.loads(run("create_gateway", "native", "Shop", "--json"))

    rotated = json.loads(run("gateway", "rotate", created["gateway_id"], "--grace", "0", "--json"))

    assert rotated.keys() == {"gateway_id", "kind", "secret"}
    assert (rotated["gateway_id"], rotated["kind"]) == (created["gateway_id"], "native")
    assert send_native(api, rotated["secret"], "+919876543210", BODY, message_id="1").status_code == 202
    assert send_native(api, created["secret"], "+919876543210", BODY, message_id="2").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_rotate_keeps_the_old_secret_for_the_default_grace_hour(api):
    created = json.loads(run("create_gateway", "jasmin", "SMSC", "--json"))

    out = run("gateway", "rotate", created["gateway_id"], "--secret", "n" * 20)

    assert "n" * 20 in out and "3600 s" in out
    old = Gateway.objects.get(pk=created["gateway_id"]).secrets.exclude(expires_at=None).get()
    assert old.expires_at is not None
    assert 3500 < (old.expires_at - old.created_at).total_seconds() < 3700


@pytest.mark.django_db(transaction=True)
def test_deactivate_and_activate_change_what_redis_knows():
    gateway_id = json.loads(run("create_gateway", "android", "Phone", "--json"))["gateway_id"]

    assert "deactivated" in run("gateway", "deactivate", gateway_id)
    assert get_redis().hget(keys.gateways(), gateway_id) is None
    assert "already inactive" in run("gateway", "deactivate", gateway_id)
    assert "activated" in run("gateway", "activate", gateway_id)
    assert get_redis().hget(keys.gateways(), gateway_id) is not None


@pytest.mark.slow  # manage.py in its own process
@pytest.mark.parametrize(
    "args",
    [
        ["gateway", "rotate", "not-a-uuid"],
        ["gateway", "deactivate", str(uuid.UUID(int=1))],
        ["gateway", "rotate", str(uuid.UUID(int=1)), "--grace", "soon"],
        ["gateway", "explode", "x"],
        ["gateway"],
        ["client", "deactivate", "nope"],
        ["client", "activate", str(uuid.UUID(int=2))],
        ["create_gateway", "native", "X", "--countries", "91,abc"],
        ["create_gateway", "native", "X", "--secret", "short"],
    ],
)
def test_bad_arguments_end_in_one_error_line_and_a_nonzero_exit(database_url, args):
    result = manage(database_url, *args)

    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.slow  # manage.py in its own process
def test_rotating_a_gateway_from_another_process_works_end_to_end(database_url, api):
    created = json.loads(manage(database_url, "create_gateway", "native", "Shop", "--json").stdout)

    result = manage(database_url, "gateway", "rotate", created["gateway_id"], "--grace", "0", "--json")

    assert result.returncode == 0, result.stderr
    secret = json.loads(result.stdout)["secret"]
    assert send_native(api, secret, "+919876543210", BODY).status_code == 202
