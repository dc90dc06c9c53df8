"""Client apps and their API keys (writes).

Every change reaches the ``api_keys`` Redis mirror when its transaction commits: a
deactivated client's keys leave the mirror (the hot path then refuses them) and come
back when it is activated again, unless they were revoked meanwhile.
"""

import base64
import secrets

from django.db import transaction
from django.utils import timezone

from apps.core import keys
from apps.core.crypto import token_hash
from apps.core.directory import RedisDirectory
from apps.core.exceptions import ApplicationError

from .models import ApiKey, Client

API_KEY_PREFIX = "sbk_"


def api_key_hash(raw_key: str) -> str:
    return token_hash(raw_key)


def _api_key_mapping() -> dict[str, str]:
    rows = ApiKey.objects.filter(revoked_at__isnull=True, client__is_active=True)
    return {h: str(c) for h, c in rows.values_list("key_hash", "client_id")}


def _client_id(key_hash: str, client_id: str) -> str:
    return client_id


api_key_directory = RedisDirectory(keys.api_keys, _api_key_mapping, parse=_client_id)


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
    if client.is_active:  # an inactive client's keys stay out of the mirror until activated
        api_key_directory.put_on_commit(key_hash, str(client.id))
    return raw_key


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey) -> None:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    api_key_directory.delete_on_commit(api_key.key_hash)


def client_deactivate(*, client: Client) -> bool:
    """Refuse the client's API keys everywhere (within CREDENTIAL_LOCAL_CACHE_SECONDS).

    The keys are kept, not revoked: ``client_activate`` brings them back. Returns
    False when the client was inactive already.
    """
    return _client_active_set(client=client, active=False)


def client_activate(*, client: Client) -> bool:
    return _client_active_set(client=client, active=True)


@transaction.atomic
def _client_active_set(*, client: Client, active: bool) -> bool:
    # Row lock: a concurrent change of the same client cannot interleave its mirror writes.
    locked = Client.objects.select_for_update().get(pk=client.pk)
    changed = locked.is_active != active
    if changed:
        locked.is_active = active
        locked.save(update_fields=["is_active"])
    client.is_active = active
    key_hashes = list(locked.api_keys.filter(revoked_at__isnull=True).values_list("key_hash", flat=True))
    if active:
        api_key_directory.change_on_commit(put=dict.fromkeys(key_hashes, str(client.id)))
    else:
        api_key_directory.change_on_commit(delete=key_hashes)
    return changed
