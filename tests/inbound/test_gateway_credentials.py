"""A gateway's secret: stored hashed or encrypted, rotated with a grace period, revocable."""

import json
import secrets
from typing import Any

import pytest
from django.db import connection

from apps.core import keys
from apps.core.crypto import token_hash
from apps.core.redis import get_redis
from apps.inbound.models import Gateway
from apps.inbound.services import gateway_activate, gateway_deactivate, gateway_rotate
from tests.helpers import GatewayCreds, send_android, send_jasmin, send_native, send_twilio
from tests.polling import wait_for

pytestmark = pytest.mark.django_db

SENDER = "+919876543210"
BODY = "ONBOARD:" + "a" * 64
ACCEPTED = {"native": 202, "android": 202, "twilio": 200, "jasmin": 200}
SENDERS: dict[str, Any] = {"android": send_android, "twilio": send_twilio, "jasmin": send_jasmin}
KINDS = list(ACCEPTED)


def deliver(api, gateway: GatewayCreds, message_id: str):
    """One SMS through ``gateway`` in its own format, signed with ``gateway.secret``."""
    if gateway.kind == "native":
        return send_native(api, gateway.secret, SENDER, BODY, message_id=message_id)
    return SENDERS[gateway.kind](api, gateway, SENDER, BODY, message_id)


def accepted(api, gateway: GatewayCreds, message_id: str) -> bool:
    return deliver(api, gateway, message_id).status_code == ACCEPTED[gateway.kind]


def rotate(gateway: GatewayCreds, capture, **options) -> GatewayCreds:
    with capture(execute=True):
        new_secret = gateway_rotate(gateway=gateway.model, **options)
    return GatewayCreds(model=gateway.model, secret=new_secret)


@pytest.mark.parametrize("kind", KINDS)
def test_during_the_grace_period_old_and_new_secret_both_work_then_only_the_new(
    api, make_gateway, kind, django_capture_on_commit_callbacks
):
    old = make_gateway(kind)
    assert accepted(api, old, "m0")

    new = rotate(old, django_capture_on_commit_callbacks, grace_seconds=1.5)

    assert new.secret != old.secret
    assert accepted(api, new, "m1")
    assert accepted(api, old, "m2")  # still within the grace period
    counter = iter(range(3, 10_000))
    wait_for(
        lambda: not accepted(api, old, f"m{next(counter)}"), timeout=10, message="old secret kept working"
    )
    assert accepted(api, new, "m-last")


@pytest.mark.parametrize("kind", KINDS)
def test_rotation_without_grace_refuses_the_old_secret_at_once(
    api, make_gateway, kind, django_capture_on_commit_callbacks
):
    old = make_gateway(kind)
    assert accepted(api, old, "m0")  # now cached in this process

    new = rotate(old, django_capture_on_commit_callbacks, grace_seconds=0)

    assert not accepted(api, old, "m1")
    assert accepted(api, new, "m2")
    assert old.model.secrets.count() == 1


def test_a_rotation_can_set_a_chosen_secret_and_refuses_a_short_one(
    make_gateway, django_capture_on_commit_callbacks
):
    gateway = make_gateway("android")

    chosen = rotate(gateway, django_capture_on_commit_callbacks, secret="c" * 24, grace_seconds=0)

    assert chosen.secret == "c" * 24
    with pytest.raises(Exception, match="at least 16 characters"):
        gateway_rotate(gateway=gateway.model, secret="short")


def test_a_second_rotation_in_the_grace_period_keeps_the_first_expiry(
    make_gateway, django_capture_on_commit_callbacks
):
    gateway = make_gateway("jasmin")
    rotate(gateway, django_capture_on_commit_callbacks, grace_seconds=60)
    first_expiry = gateway.model.secrets.exclude(expires_at=None).get().expires_at

    rotate(gateway, django_capture_on_commit_callbacks, grace_seconds=3600)

    expiries = sorted(s.expires_at for s in gateway.model.secrets.exclude(expires_at=None))
    assert expiries[0] == first_expiry  # the original secret does not get a longer life
    assert gateway.model.secrets.filter(expires_at=None).count() == 1


@pytest.mark.parametrize("kind", KINDS)
def test_a_deactivated_gateway_is_refused_and_comes_back_when_activated(
    api, make_gateway, kind, django_capture_on_commit_callbacks
):
    gateway = make_gateway(kind)
    assert accepted(api, gateway, "m0")

    with django_capture_on_commit_callbacks(execute=True):
        assert gateway_deactivate(gateway=gateway.model) is True

    assert deliver(api, gateway, "m1").status_code in {401, 404}
    assert get_redis().hget(keys.gateways(), str(gateway.id)) is None
    assert get_redis().hget(keys.gateway_tokens(), token_hash(gateway.secret)) is None
    assert get_redis().llen(keys.sms_inbound_queue()) == 1  # the first SMS only
    with django_capture_on_commit_callbacks(execute=True):
        assert gateway_activate(gateway=gateway.model) is True
    assert accepted(api, gateway, "m2")


def test_deactivating_twice_reports_no_change(make_gateway, django_capture_on_commit_callbacks):
    gateway = make_gateway("native")
    with django_capture_on_commit_callbacks(execute=True):
        gateway_deactivate(gateway=gateway.model)
        assert gateway_deactivate(gateway=gateway.model) is False
    assert Gateway.objects.get(pk=gateway.id).is_active is False


def test_no_secret_of_any_kind_is_stored_in_plain_text(make_gateway, django_capture_on_commit_callbacks):
    gateways = [make_gateway(kind, secret=secrets.token_urlsafe(24)) for kind in KINDS]
    rotated = [rotate(g, django_capture_on_commit_callbacks, grace_seconds=60) for g in gateways[:2]]
    _load_mirrors_from_postgres()

    for gateway in gateways + rotated:  # the rotated ones have two secrets in force
        assert gateway.secret[-4:] in {s.hint for s in gateway.model.secrets.all()}
        assert postgres_columns_holding(gateway.secret) == [], gateway.kind
        assert redis_keys_holding(gateway.secret) == [], gateway.kind
    # The scans do find what is there: the names in PostgreSQL, the ids in the mirror.
    assert "inbound_gateway.name" in postgres_columns_holding("android gateway")
    assert f"data:{keys.gateways()}" in redis_keys_holding(str(gateways[0].id))


def test_the_gateways_mirror_holds_hashes_or_ciphertext(make_gateway):
    native = make_gateway("native", secret="n" * 20)
    android = make_gateway("android", secret="a" * 20)

    native_entry = json.loads(str(get_redis().hget(keys.gateways(), str(native.id))))
    android_entry = json.loads(str(get_redis().hget(keys.gateways(), str(android.id))))

    [[token_hash, expires]] = native_entry["secrets"]
    assert len(token_hash) == 64 and expires is None
    [[ciphertext, _]] = android_entry["secrets"]
    assert ciphertext.startswith("gAAAA")  # a Fernet token


def _load_mirrors_from_postgres() -> None:
    """Also prove a rebuild (what the repair runs) writes no plain secret."""
    from apps.inbound.services import gateway_directory, gateway_token_directory

    gateway_directory.rebuild()
    gateway_token_directory.rebuild()


def postgres_columns_holding(text: str) -> list[str]:
    found = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND data_type IN ('text', 'character varying', 'json', 'jsonb')"
        )
        for table, column in cursor.fetchall():
            query = f'SELECT 1 FROM "{table}" WHERE "{column}"::text LIKE %s LIMIT 1'  # noqa: S608 - names from the catalog
            cursor.execute(query, [f"%{text}%"])
            if cursor.fetchone():
                found.append(f"{table}.{column}")
    return found


def redis_keys_holding(text: str) -> list[str]:
    """Keys of every Redis DB the bridge uses (data, broker, results, cache) whose value holds ``text``."""
    found = []
    for role in ("data", "broker", "results", "cache"):
        r = get_redis(role)
        for key in r.scan_iter(count=1000):
            if text in _value_text(r, key):
                found.append(f"{role}:{key}")
    return found


def _value_text(r, key: str) -> str:
    kind = r.type(key)
    readers = {
        "string": lambda: r.get(key),
        "hash": lambda: r.hgetall(key),
        "list": lambda: r.lrange(key, 0, -1),
        "set": lambda: r.smembers(key),
        "zset": lambda: r.zrange(key, 0, -1, withscores=True),
    }
    try:
        return str(readers.get(kind, lambda: key)())
    except UnicodeDecodeError:  # a binary value (Celery's pickled results are not ours)
        return ""
