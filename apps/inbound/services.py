"""Gateways (writes, lookups) and the inbound queue: authenticate, de-duplicate, queue.

Receiving is hot path: gateways are authenticated from the Redis mirrors (never SQL),
and one Lua call de-duplicates by gateway message id and queues the SMS atomically;
validation happens later in a worker.

Credentials have a lifecycle. A secret is shown once, when it is made (the services
return it in plain text beside the model) and is stored hashed or encrypted
(models.GatewaySecret). A rotation keeps the old secret working for a grace period:
each secret in the mirror carries its expiry, checked at every request, so the grace
ends on time in every process whatever they have cached. Every change reaches the
mirrors when its transaction commits.
"""

import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from apps.core import keys
from apps.core.crypto import secret_decrypt, secret_encrypt, secret_hint, secret_reencrypt, token_hash
from apps.core.directory import RedisDirectory
from apps.core.exceptions import ApplicationError
from apps.core.redis import run_script

from .models import SECRET_HASHED_KINDS, Gateway, GatewaySecret
from .scope import countries_clean, receiving_number_clean, scope_check

MAX_SMS_LENGTH = 2000  # concatenated SMS bodies stay far below this
MIN_SECRET_LENGTH = 16
DEFAULT_GRACE_SECONDS = 3600

Secrets = tuple[tuple[str, float | None], ...]  # (secret form, expiry as epoch seconds or None)


@dataclass(frozen=True)
class GatewayEntry:
    """The ``gateways`` mirror's value: its secrets hashed or encrypted, never plain."""

    VERSION: ClassVar[int] = 1

    kind: str
    secrets: Secrets
    countries: tuple[int, ...] = ()
    receiving_number: str = ""

    def to_json(self) -> str:
        return json.dumps(
            {
                "v": self.VERSION,
                "kind": self.kind,
                "secrets": [list(s) for s in self.secrets],
                "countries": list(self.countries),
                "receiving_number": self.receiving_number,
            }
        )

    @classmethod
    def from_json(cls, raw: str) -> "GatewayEntry | None":
        data = json.loads(raw)
        if data.get("v") != cls.VERSION:
            return None  # an entry of another release: unknown until the mirror is rebuilt
        return cls(
            kind=data["kind"],
            secrets=tuple((value, expires_at) for value, expires_at in data["secrets"]),
            countries=tuple(data["countries"]),
            receiving_number=data["receiving_number"],
        )


@dataclass(frozen=True)
class GatewayRecord:
    """An active gateway as authentication uses it: token hashes, or keys decrypted."""

    id: str
    kind: str
    secrets: Secrets
    countries: frozenset[int] = frozenset()
    receiving_number: str = ""

    def secrets_in_force(self) -> list[str]:
        now = time.time()
        return [value for value, expires_at in self.secrets if expires_at is None or expires_at > now]

    def token_in_force(self, token: str) -> bool:
        """Constant-time: whether ``token``'s hash is one of this gateway's token hashes."""
        presented = token_hash(token)
        matches = [hmac.compare_digest(presented, known) for known in self.secrets_in_force()]
        return any(matches)


def _entry(gateway: Gateway, in_force: Iterable[GatewaySecret]) -> GatewayEntry:
    return GatewayEntry(
        kind=gateway.kind,
        secrets=tuple((s.token_hash or s.ciphertext, _epoch(s.expires_at)) for s in in_force),
        countries=tuple(gateway.countries),
        receiving_number=gateway.receiving_number,
    )


def _epoch(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def _record(gateway_id: str, raw: str) -> GatewayRecord | None:
    entry = GatewayEntry.from_json(raw)
    if entry is None:
        return None
    hashed = entry.kind in SECRET_HASHED_KINDS
    return GatewayRecord(
        id=gateway_id,
        kind=entry.kind,
        # Decrypted here, once per CREDENTIAL_LOCAL_CACHE_SECONDS, not per request.
        secrets=tuple((value if hashed else secret_decrypt(value), exp) for value, exp in entry.secrets),
        countries=frozenset(entry.countries),
        receiving_number=entry.receiving_number,
    )


def _gateway_mapping() -> dict[str, str]:
    in_force = Prefetch("secrets", queryset=GatewaySecret.objects.in_force(), to_attr="in_force")
    rows = Gateway.objects.filter(is_active=True).prefetch_related(in_force)
    return {str(g.id): _entry(g, g.in_force).to_json() for g in rows}


def _token_mapping() -> dict[str, str]:
    rows = GatewaySecret.objects.in_force().filter(gateway__is_active=True, gateway__kind=Gateway.Kind.NATIVE)
    return {h: str(g) for h, g in rows.values_list("token_hash", "gateway_id")}


def _gateway_id(token_hash: str, gateway_id: str) -> str:
    return gateway_id


gateway_directory = RedisDirectory(keys.gateways, _gateway_mapping, parse=_record)
gateway_token_directory = RedisDirectory(keys.gateway_tokens, _token_mapping, parse=_gateway_id)


# --- writes ------------------------------------------------------------------------------
@transaction.atomic
def gateway_create(
    *,
    kind: str,
    name: str,
    secret: str | None = None,
    countries: Iterable[int | str] = (),
    receiving_number: str = "",
) -> tuple[Gateway, str]:
    """Create a gateway; returns it with its secret in plain text (shown once, stored hashed
    or encrypted)."""
    if kind not in Gateway.Kind.values:
        raise ApplicationError(
            f"Unknown gateway kind {kind!r}; choose one of {', '.join(Gateway.Kind.values)}.", code="invalid"
        )
    plain = _secret_choose(secret)
    gateway = Gateway.objects.create(
        kind=kind,
        name=name,
        countries=countries_clean(countries),
        receiving_number=receiving_number_clean(kind=kind, raw=receiving_number),
    )
    _secret_add(gateway, plain)
    _mirror_on_commit(gateway)
    return gateway, plain


@transaction.atomic
def gateway_update(
    *, gateway: Gateway, name: str, countries: Iterable[int | str], receiving_number: str
) -> Gateway:
    locked = _locked(gateway)
    locked.name = name
    locked.countries = countries_clean(countries)
    locked.receiving_number = receiving_number_clean(kind=locked.kind, raw=receiving_number)
    locked.save(update_fields=["name", "countries", "receiving_number"])
    _mirror_on_commit(locked)
    return locked


@transaction.atomic
def gateway_rotate(
    *, gateway: Gateway, secret: str | None = None, grace_seconds: float = DEFAULT_GRACE_SECONDS
) -> str:
    """Give the gateway a new secret; returns it in plain text (shown once).

    The secrets in force keep working for ``grace_seconds`` (0: they stop at once), so
    the new one can be configured on the gateway without losing SMS meanwhile.
    """
    if grace_seconds < 0:
        raise ApplicationError("The grace period cannot be negative.", code="invalid")
    plain = _secret_choose(secret)
    locked = _locked(gateway)
    now = timezone.now()
    until = now + timedelta(seconds=grace_seconds)
    dropped = []
    for old in locked.secrets.all():
        if grace_seconds == 0 or (old.expires_at is not None and old.expires_at <= now):
            dropped.append(old)
        elif old.expires_at is None or old.expires_at > until:
            old.expires_at = until
            old.save(update_fields=["expires_at"])
    GatewaySecret.objects.filter(pk__in=[s.pk for s in dropped]).delete()
    _secret_add(locked, plain)
    _mirror_on_commit(locked, dropped_hashes=[s.token_hash for s in dropped if s.token_hash])
    return plain


def gateway_deactivate(*, gateway: Gateway) -> bool:
    """Refuse the gateway's deliveries everywhere (within CREDENTIAL_LOCAL_CACHE_SECONDS).
    Returns False when it was inactive already."""
    return _active_set(gateway=gateway, active=False)


def gateway_activate(*, gateway: Gateway) -> bool:
    return _active_set(gateway=gateway, active=True)


@transaction.atomic
def _active_set(*, gateway: Gateway, active: bool) -> bool:
    locked = _locked(gateway)
    changed = locked.is_active != active
    if changed:
        locked.is_active = active
        locked.save(update_fields=["is_active"])
    gateway.is_active = active
    _mirror_on_commit(locked)  # also when unchanged: puts a mirror that drifted right
    return changed


@transaction.atomic
def gateway_secrets_reencrypt() -> int:
    """Encrypt every stored gateway secret with the first SECRETS_ENCRYPTION_KEY, so older
    keys can be retired; returns how many secrets were re-encrypted."""
    rows = list(GatewaySecret.objects.select_for_update().exclude(ciphertext=""))
    for row in rows:
        row.ciphertext = secret_reencrypt(row.ciphertext)
        row.save(update_fields=["ciphertext"])
    for gateway in Gateway.objects.filter(pk__in={row.gateway_id for row in rows}):
        _mirror_on_commit(gateway)
    return len(rows)


def _locked(gateway: Gateway) -> Gateway:
    # Row lock: two changes of one gateway cannot interleave their mirror writes.
    return Gateway.objects.select_for_update().get(pk=gateway.pk)


def _secret_choose(secret: str | None) -> str:
    if secret is not None and len(secret) < MIN_SECRET_LENGTH:
        raise ApplicationError(
            f"A gateway secret needs at least {MIN_SECRET_LENGTH} characters.", code="invalid"
        )
    return secret or secrets.token_urlsafe(32)


def _secret_add(gateway: Gateway, plain: str) -> GatewaySecret:
    if gateway.hashes_secrets:
        stored = {"token_hash": token_hash(plain)}
    else:
        stored = {"ciphertext": secret_encrypt(plain)}
    return GatewaySecret.objects.create(gateway=gateway, hint=secret_hint(plain), **stored)


def _mirror_on_commit(gateway: Gateway, *, dropped_hashes: Iterable[str] = ()) -> None:
    gateway_id = str(gateway.id)
    in_force = list(gateway.secrets.in_force())
    tokens = [s.token_hash for s in in_force] if gateway.kind == Gateway.Kind.NATIVE else []
    if gateway.is_active:
        gateway_directory.put_on_commit(gateway_id, _entry(gateway, in_force).to_json())
        gateway_token_directory.change_on_commit(put=dict.fromkeys(tokens, gateway_id), delete=dropped_hashes)
    else:
        every = gateway.secrets.exclude(token_hash="").values_list("token_hash", flat=True)
        gateway_directory.delete_on_commit(gateway_id)
        gateway_token_directory.change_on_commit(delete=[*every, *dropped_hashes])


# --- lookups (hot path: Redis only) ------------------------------------------------------
def gateway_lookup(*, gateway_id: str, kind: str, fresh: bool = False) -> GatewayRecord | None:
    """The active gateway ``gateway_id`` of ``kind``, from Redis; None when unknown.

    ``fresh`` reads past this process's cached copy: for a delivery that fails against
    the copy, since it may carry a secret rotated in after the copy was taken.
    """
    try:
        uuid.UUID(gateway_id)
    except ValueError:
        return None
    record = gateway_directory.get(gateway_id, fresh=fresh)
    return record if record is not None and record.kind == kind else None


def gateway_lookup_by_token(*, token: str) -> GatewayRecord | None:
    """The active native gateway whose token (in force) is ``token``."""
    if not token:
        return None
    gateway_id = gateway_token_directory.get(token_hash(token))
    if not gateway_id:
        return None
    record = gateway_lookup(gateway_id=gateway_id, kind=Gateway.Kind.NATIVE)
    if record is not None and not record.token_in_force(token):
        # The index knows the token, the cached record not (yet): a token rotated in since,
        # or one rotated out (the index keeps it until the gateway changes again).
        record = gateway_lookup(gateway_id=gateway_id, kind=Gateway.Kind.NATIVE, fresh=True)
    return record if record is not None and record.token_in_force(token) else None


# --- the inbound queue -------------------------------------------------------------------
@dataclass(frozen=True)
class InboundSms:
    sender_number: str
    sms_message: str
    received_timestamp: datetime
    message_id: str  # the gateway's delivery id, used to drop repeated deliveries
    recipient: str | None = None  # the number it was sent to, when the gateway says


@dataclass(frozen=True)
class EnqueueResult:
    uuid: str
    duplicate: bool
    kick: bool  # this request should wake a validation worker


def sms_enqueue(*, gateway: GatewayRecord, sms: InboundSms) -> EnqueueResult:
    """Queue ``sms`` once per gateway message id; a repeat returns the first uuid.

    An SMS outside the gateway's scope (sender country, receiving number) is refused
    (403) and not queued.
    """
    if len(sms.sms_message) > MAX_SMS_LENGTH:
        raise ApplicationError(f"sms_message is longer than {MAX_SMS_LENGTH} characters.", code="invalid")
    scope_check(
        kind=gateway.kind,
        countries=gateway.countries,
        receiving_number=gateway.receiving_number,
        sender=sms.sender_number,
        recipient=sms.recipient,
    )
    sms_uuid = str(uuid.uuid4())
    event = {
        "uuid": sms_uuid,
        "gateway_id": gateway.id,
        "gateway_kind": gateway.kind,
        "message_id": sms.message_id,
        "sender_number": sms.sender_number,
        "sms_message": sms.sms_message,
        "received_timestamp": sms.received_timestamp.isoformat(),
        "queued_at": time.time(),
    }
    created, existing_uuid, kick = run_script(
        "inbound/lua/sms_enqueue.lua",
        keys=[keys.sms_dedupe(gateway.id, sms.message_id), keys.sms_inbound_queue(), keys.sms_inbound_kick()],
        args=[sms_uuid, json.dumps(event), keys.SMS_DEDUPE_TTL, keys.SMS_INBOUND_KICK_TTL_MS],
    )
    return EnqueueResult(uuid=existing_uuid, duplicate=not created, kick=bool(kick))


def message_id_derive(*, sender: str, body: str, timestamp: str) -> str:
    """A stable id for gateways that send none: the same SMS delivered twice matches."""
    return hashlib.sha256(f"{sender}\x1f{body}\x1f{timestamp}".encode()).hexdigest()[:32]
