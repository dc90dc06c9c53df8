"""The Redis mirrors of gateways, and the lookups the hot path authenticates with.

``gateways`` maps an active gateway's id to a GatewayEntry: its kind, scope and the
secrets in force, each with its expiry, stored as SHA-256 (bearer tokens) or Fernet
ciphertext (HMAC keys, Twilio auth tokens), never in plain text. A process decrypts an
entry once when it reads it and keeps the GatewayRecord for
CREDENTIAL_LOCAL_CACHE_SECONDS. ``gateway_tokens`` indexes native tokens by hash.
"""

import hmac
import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from django.db.models import Prefetch, QuerySet

from apps.core import keys
from apps.core.crypto import secret_decrypt, token_hash
from apps.core.directory import RedisDirectory

from .models import SECRET_HASHED_KINDS, Gateway, GatewaySecret

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


def gateway_entry(gateway: Gateway, in_force: Iterable[GatewaySecret]) -> GatewayEntry:
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
    return {str(g.id): gateway_entry(g, g.in_force).to_json() for g in rows}


def _token_mapping() -> dict[str, str]:
    rows = _token_mapping_rows()
    return {h: str(g) for h, g in rows.values_list("token_hash", "gateway_id")}


def _gateway_id(token_hash: str, gateway_id: str) -> str:
    return gateway_id


# While Redis is down, one gateway (or token) is read from PostgreSQL, so a delivery
# can still be authenticated and kept in the inbound outbox (apps.inbound.outbox).
def _gateway_from_database(gateway_id: str) -> str | None:
    in_force = Prefetch("secrets", queryset=GatewaySecret.objects.in_force(), to_attr="in_force")
    gateway = Gateway.objects.filter(pk=gateway_id, is_active=True).prefetch_related(in_force).first()
    return None if gateway is None else gateway_entry(gateway, gateway.in_force).to_json()


def _token_from_database(token_hash: str) -> str | None:
    gateway_id = (
        _token_mapping_rows().filter(token_hash=token_hash).values_list("gateway_id", flat=True).first()
    )
    return None if gateway_id is None else str(gateway_id)


def _token_mapping_rows() -> "QuerySet[GatewaySecret]":
    return GatewaySecret.objects.in_force().filter(gateway__is_active=True, gateway__kind=Gateway.Kind.NATIVE)


gateway_directory = RedisDirectory(
    keys.gateways, _gateway_mapping, parse=_record, fallback=_gateway_from_database
)
gateway_token_directory = RedisDirectory(
    keys.gateway_tokens, _token_mapping, parse=_gateway_id, fallback=_token_from_database
)


# --- lookups (hot path: Redis only while it serves) -----------------------------------------------------
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
