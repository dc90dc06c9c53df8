"""Client apps and their API keys (writes).

Every change reaches the ``api_keys`` Redis mirror when its transaction commits: a
deactivated client's keys leave the mirror (the hot path then refuses them) and come
back when it is activated again, unless they were revoked meanwhile.

Names and webhook URLs are checked here, by the one validator each that the admin form
and the commands also call. Given an ``actor``, a change is written to the operator log
in its own transaction.
"""

import base64
import secrets
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core import keys
from apps.core.crypto import token_hash
from apps.core.directory import RedisDirectory
from apps.core.exceptions import ApplicationError
from apps.core.operator_log import Actor, changes_between, operator_action_record

from .models import ApiKey, Client

API_KEY_PREFIX = "sbk_"


def _api_key_mapping() -> dict[str, str]:
    rows = ApiKey.objects.filter(revoked_at__isnull=True, client__is_active=True)
    return {h: str(c) for h, c in rows.values_list("key_hash", "client_id")}


def _client_id(key_hash: str, client_id: str) -> str:
    return client_id


api_key_directory = RedisDirectory(keys.api_keys, _api_key_mapping, parse=_client_id)


def webhook_secret_generate() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


# --- names and webhook URLs ------------------------------------------------------------------
NAME_MAX_LENGTH = Client._meta.get_field("name").max_length or 120
URL_MAX_LENGTH = Client._meta.get_field("webhook_url").max_length or 500


def client_name_clean(*, name: str, client_id: uuid.UUID | None = None) -> str:
    """``name`` without surrounding spaces, or ApplicationError; another client (not
    ``client_id``) with the same name ignoring case is refused."""
    name = name.strip()
    if not name:
        raise ApplicationError("A client needs a name.", code="invalid")
    if len(name) > NAME_MAX_LENGTH:
        raise ApplicationError(f"A client name has at most {NAME_MAX_LENGTH} characters.", code="invalid")
    others = Client.objects.filter(name__iexact=name)
    if client_id is not None:
        others = others.exclude(pk=client_id)
    if others.exists():
        raise _name_taken(name)
    return name


def _name_taken(name: str) -> ApplicationError:
    return ApplicationError(
        f"A client named {name!r} exists already (names are compared ignoring case).",
        code="client_name_taken",
        status_code=409,
    )


def webhook_url_clean(*, url: str) -> str:
    """The webhook URL to store ("" for none), or ApplicationError saying what is wrong.

    http or https with a host and no credentials in it (the callback is signed; a
    password in a URL ends up in logs). Plain http only where callbacks may use it
    (DJANGO_DEBUG=1 or CALLBACK_ALLOW_PRIVATE_NETWORKS=1), as at delivery time.
    """
    url = url.strip()
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError as exc:  # a malformed [IPv6] host or port
        raise _bad_url(url, "is not a valid URL") from exc
    problem = _url_problem(url, parts.scheme.lower(), hostname, "@" in parts.netloc)
    if problem:
        raise _bad_url(url, problem)
    return url


def _url_problem(url: str, scheme: str, hostname: str | None, credentials: bool) -> str:
    if len(url) > URL_MAX_LENGTH:
        return f"is longer than {URL_MAX_LENGTH} characters"
    if scheme not in {"http", "https"}:
        return "must start with https://"
    if not hostname:
        return "has no host"
    if credentials:
        return "must not carry a user name or password (callbacks are signed instead)"
    if scheme == "http" and not (settings.DEBUG or settings.CALLBACK_ALLOW_PRIVATE_NETWORKS):
        return "must use https (plain http only with CALLBACK_ALLOW_PRIVATE_NETWORKS=1)"
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        return "is not a valid URL"
    return ""


def _bad_url(url: str, problem: str) -> ApplicationError:
    shown = url if len(url) <= 80 else url[:80] + "..."
    return ApplicationError(f"Webhook URL {shown!r} {problem}.", code="invalid_webhook_url")


# --- clients ------------------------------------------------------------------------------------
@transaction.atomic
def client_create(*, name: str, webhook_url: str = "", actor: Actor | None = None) -> tuple[Client, str]:
    """Create a client with one API key; returns the key in plain text (shown once)."""
    name = client_name_clean(name=name)
    url = webhook_url_clean(url=webhook_url)
    try:
        with transaction.atomic():  # a savepoint: the race's loser gets the clear error, not a 500
            client = Client.objects.create(
                name=name, webhook_url=url, webhook_secret=webhook_secret_generate()
            )
    except IntegrityError as exc:
        raise _name_taken(name) from exc
    if actor is not None:
        summary = f"created with webhook {url}" if url else "created without a webhook"
        operator_action_record(actor=actor, action="client.create", obj=client, summary=summary)
    return client, api_key_create(client=client, actor=actor)


@transaction.atomic
def client_update(*, client: Client, name: str, webhook_url: str, actor: Actor | None = None) -> Client:
    """Rename a client or change its webhook URL (its keys and mirror entries stay as they are)."""
    locked = Client.objects.select_for_update().get(pk=client.pk)
    old = {"name": locked.name, "webhook_url": locked.webhook_url}
    new = {
        "name": client_name_clean(name=name, client_id=client.pk),
        "webhook_url": webhook_url_clean(url=webhook_url),
    }
    changes = changes_between(old, new)
    if not changes:
        return locked
    locked.name, locked.webhook_url = new["name"], new["webhook_url"]
    try:
        with transaction.atomic():
            locked.save(update_fields=["name", "webhook_url"])
    except IntegrityError as exc:
        raise _name_taken(new["name"]) from exc
    if actor is not None:
        summary = "changed " + ", ".join(changes)
        operator_action_record(
            actor=actor, action="client.change", obj=locked, summary=summary, changes=changes
        )
    return locked


@transaction.atomic
def api_key_create(*, client: Client, actor: Actor | None = None) -> str:
    raw_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key_hash = token_hash(raw_key)
    api_key = ApiKey.objects.create(client=client, prefix=raw_key[:12], key_hash=key_hash)
    if client.is_active:  # an inactive client's keys stay out of the mirror until activated
        api_key_directory.put_on_commit(key_hash, str(client.id))
    if actor is not None:
        operator_action_record(
            actor=actor, action="api_key.create", obj=api_key, summary=f"for {client.name}"
        )
    return raw_key


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, actor: Actor | None = None) -> bool:
    """Revoke the key at once; False when it was revoked already (the mirror is cleaned anyway)."""
    revoked = ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    api_key.refresh_from_db(fields=["revoked_at"])
    api_key_directory.delete_on_commit(api_key.key_hash)
    if revoked and actor is not None:
        operator_action_record(
            actor=actor,
            action="api_key.revoke",
            obj=api_key,
            summary=f"of {api_key.client.name}",
            changes={
                "revoked_at": {
                    "old": None,
                    "new": api_key.revoked_at.isoformat() if api_key.revoked_at else None,
                }
            },
        )
    return bool(revoked)


def client_deactivate(*, client: Client, actor: Actor | None = None) -> bool:
    """Refuse the client's API keys everywhere (within CREDENTIAL_LOCAL_CACHE_SECONDS).

    The keys are kept, not revoked: ``client_activate`` brings them back. Returns
    False when the client was inactive already.
    """
    return _client_active_set(client=client, active=False, actor=actor)


def client_activate(*, client: Client, actor: Actor | None = None) -> bool:
    return _client_active_set(client=client, active=True, actor=actor)


@transaction.atomic
def _client_active_set(*, client: Client, active: bool, actor: Actor | None) -> bool:
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
    if changed and actor is not None:
        operator_action_record(
            actor=actor,
            action="client.activate" if active else "client.deactivate",
            obj=locked,
            summary=f"{len(key_hashes)} active key(s) {'accepted' if active else 'refused'}",
            changes={"is_active": {"old": not active, "new": active}},
        )
    return changed
