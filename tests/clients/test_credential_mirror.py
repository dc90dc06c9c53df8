"""The Redis mirrors of credentials: rebuilt from PostgreSQL without undoing concurrent changes."""

import pytest

from apps.clients.models import ApiKey, Client
from apps.clients.services import api_key_create, api_key_directory, api_key_revoke
from apps.core import keys
from apps.core.crypto import token_hash
from apps.core.directory import LOADED_SENTINEL, RedisDirectory
from apps.core.redis import get_redis
from apps.inbound.models import Gateway
from apps.inbound.services import gateway_deactivate, gateway_directory

pytestmark = pytest.mark.django_db


def active_keys() -> dict[str, str]:
    rows = ApiKey.objects.filter(revoked_at__isnull=True, client__is_active=True)
    return {h: str(c) for h, c in rows.values_list("key_hash", "client_id")}


def mirrored(raw_key: str) -> str | None:
    value = get_redis().hget(keys.api_keys(), token_hash(raw_key))
    return None if value is None else str(value)


def rebuild_with(load) -> None:
    """Rebuild the api_keys mirror the way the repair does, with ``load`` reading PostgreSQL."""
    RedisDirectory(keys.api_keys, load, parse=lambda field, value: value).rebuild()


def test_a_key_revoked_while_the_mirror_is_rebuilt_stays_revoked(
    make_client, django_capture_on_commit_callbacks
):
    creds = make_client("Acme")

    def load_then_revoke() -> dict[str, str]:
        mapping = active_keys()  # the snapshot still has the key...
        with django_capture_on_commit_callbacks(execute=True):  # ...revoked before the rebuild writes
            api_key_revoke(api_key=ApiKey.objects.get(key_hash=token_hash(creds.api_key)))
        assert token_hash(creds.api_key) in mapping
        return mapping

    rebuild_with(load_then_revoke)

    assert mirrored(creds.api_key) is None
    assert get_redis().hget(keys.api_keys(), LOADED_SENTINEL) == "1"


def test_a_key_created_while_the_mirror_is_rebuilt_is_kept(make_client, django_capture_on_commit_callbacks):
    creds = make_client("Acme")
    client = Client.objects.get(pk=creds.id)
    created = []

    def load_then_create() -> dict[str, str]:
        mapping = active_keys()
        with django_capture_on_commit_callbacks(execute=True):
            created.append(api_key_create(client=client))
        return mapping

    rebuild_with(load_then_create)

    assert mirrored(created[0]) == creds.id
    assert mirrored(creds.api_key) == creds.id


def test_a_gateway_deactivated_during_a_rebuild_stays_out(make_gateway, django_capture_on_commit_callbacks):
    from apps.inbound.mirror import _gateway_mapping

    gateway = make_gateway("android")

    def load_then_deactivate() -> dict[str, str]:
        mapping = _gateway_mapping()
        with django_capture_on_commit_callbacks(execute=True):
            gateway_deactivate(gateway=Gateway.objects.get(pk=gateway.id))
        return mapping

    RedisDirectory(keys.gateways, load_then_deactivate, parse=lambda field, value: value).rebuild()

    assert get_redis().hget(keys.gateways(), str(gateway.id)) is None
    gateway_directory.forget_local()
    assert gateway_directory.get(str(gateway.id)) is None


def test_a_rebuild_drops_what_postgres_no_longer_has_and_leaves_no_temporary_keys(make_client):
    creds = make_client("Acme")
    get_redis().hset(keys.api_keys(), "f" * 64, "stale-client")

    api_key_directory.rebuild()

    assert get_redis().hget(keys.api_keys(), "f" * 64) is None
    assert mirrored(creds.api_key) == creds.id
    assert get_redis().ttl(keys.api_keys()) == -1  # the renamed copy lost its temporary TTL
    assert sorted(get_redis().scan_iter(f"{keys.api_keys()}:*")) == []


def test_a_lost_mirror_is_rebuilt_from_postgres_on_lookup(make_client):
    creds = make_client("First")
    get_redis().delete(keys.api_keys())  # Redis lost its data
    api_key_directory.forget_local()

    assert api_key_directory.get(token_hash(creds.api_key)) == creds.id
    assert get_redis().hget(keys.api_keys(), LOADED_SENTINEL) == "1"
