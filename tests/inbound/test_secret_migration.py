"""The migrations turn plain secrets of an existing installation into their stored forms."""

import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from apps.clients.models import Client
from apps.core import keys
from apps.core.crypto import secret_decrypt, token_hash
from apps.core.redis import get_redis
from apps.inbound.models import GatewaySecret
from tests.helpers import GatewayCreds, send_android, send_native
from tests.inbound.test_gateway_credentials import postgres_columns_holding

BEFORE = [("inbound", "0001_initial"), ("clients", "0001_initial")]
NATIVE_TOKEN = "native-token-" + "n" * 20
ANDROID_KEY = "android-key-" + "a" * 20
WEBHOOK_SECRET = "whsec_" + "w" * 40


def migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor


def leaves() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.fixture
def old_schema(transactional_db):
    """The database as the release before stored it; the latest schema again afterwards."""
    try:
        yield migrate(BEFORE).loader.project_state(BEFORE).apps
    finally:
        migrate(leaves())


def test_plain_secrets_are_hashed_or_encrypted_and_the_old_mirror_is_dropped(old_schema, api):
    OldGateway = old_schema.get_model("inbound", "Gateway")
    OldClient = old_schema.get_model("clients", "Client")
    native = OldGateway.objects.create(kind="native", name="n", secret=NATIVE_TOKEN)
    android = OldGateway.objects.create(kind="android", name="a", secret=ANDROID_KEY)
    client = OldClient.objects.create(name="Acme", webhook_secret=WEBHOOK_SECRET)
    old_entry = json.dumps({"kind": "native", "secret": NATIVE_TOKEN})
    get_redis().hset(keys.gateways(), str(native.id), old_entry)  # the old mirror held it in plain

    migrate(leaves())

    assert GatewaySecret.objects.get(gateway_id=native.id).token_hash == token_hash(NATIVE_TOKEN)
    assert secret_decrypt(GatewaySecret.objects.get(gateway_id=android.id).ciphertext) == ANDROID_KEY
    assert Client.objects.get(pk=client.pk).webhook_secret == WEBHOOK_SECRET
    for plain in (NATIVE_TOKEN, ANDROID_KEY, WEBHOOK_SECRET):
        assert postgres_columns_holding(plain) == []
    assert not get_redis().exists(keys.gateways())
    # The mirrors come back from PostgreSQL on first use, and the old secrets still work.
    assert send_native(api, NATIVE_TOKEN, "+919876543210", "hi", message_id="1").status_code == 202
    from apps.inbound.models import Gateway

    creds = GatewayCreds(model=Gateway.objects.get(pk=android.id), secret=ANDROID_KEY)
    assert send_android(api, creds, "+919876543210", "hi").status_code == 202
