"""Client apps and their API keys (writes)."""

import base64
import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from apps.core import keys
from apps.core.directory import RedisDirectory
from apps.core.exceptions import ApplicationError

from .models import ApiKey, Client

API_KEY_PREFIX = "sbk_"


def api_key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def _api_key_mapping() -> dict[str, str]:
    rows = ApiKey.objects.filter(revoked_at__isnull=True, client__is_active=True)
    return {h: str(c) for h, c in rows.values_list("key_hash", "client_id")}


api_key_directory = RedisDirectory(keys.api_keys, _api_key_mapping)


def webhook_secret_generate() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@transaction.atomic
def client_create(*, name: str, webhook_url: str = "") -> tuple[Client, str]:
    """Create a client with one API key; returns the key in plain text (shown once)."""
    if not name.strip():
        raise ApplicationError("A client needs a name.", code="invalid")
    client = Client.objects.create(
        name=name.strip(), webhook_url=webhook_url, webhook_secret=webhook_secret_generate()
    )
    return client, api_key_create(client=client)


@transaction.atomic
def api_key_create(*, client: Client) -> str:
    raw_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key_hash = api_key_hash(raw_key)
    ApiKey.objects.create(client=client, prefix=raw_key[:12], key_hash=key_hash)
    api_key_directory.put_on_commit(key_hash, str(client.id))
    return raw_key


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey) -> None:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    api_key_directory.delete_on_commit(api_key.key_hash)
