"""Move each gateway's plain secret into a GatewaySecret row, hashed or encrypted.

The Redis mirrors held the plain secrets too: they are deleted here, so Redis must be
reachable, and the bridge rebuilds them from PostgreSQL (new format) on first use.
A separate migration from the schema changes: PostgreSQL refuses ALTER TABLE in a
transaction that has pending foreign-key checks from these inserts.
"""

from django.db import migrations
from django.db.migrations.exceptions import IrreversibleError

from apps.core import keys
from apps.core.crypto import secret_encrypt, secret_hint, token_hash
from apps.core.redis import get_redis

HASHED_KINDS = {"native", "jasmin"}  # bearer tokens: compared only, so hashed


def forwards(apps, schema_editor):
    Gateway = apps.get_model("inbound", "Gateway")
    GatewaySecret = apps.get_model("inbound", "GatewaySecret")
    converted = 0
    for gateway in Gateway.objects.exclude(secret=""):
        if gateway.kind in HASHED_KINDS:
            stored = {"token_hash": token_hash(gateway.secret)}
        else:
            stored = {"ciphertext": secret_encrypt(gateway.secret)}
        GatewaySecret.objects.create(gateway=gateway, hint=secret_hint(gateway.secret), **stored)
        converted += 1
    if converted:
        get_redis().delete(keys.gateways(), keys.gateway_tokens())


def backwards(apps, schema_editor):
    if apps.get_model("inbound", "GatewaySecret").objects.exists():
        raise IrreversibleError(
            "Gateway tokens are stored hashed and cannot be turned back into plain secrets."
        )


class Migration(migrations.Migration):
    dependencies = [
        ("inbound", "0002_gateway_secrets_and_scope"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
