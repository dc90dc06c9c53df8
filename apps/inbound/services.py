"""Gateways (writes) and the inbound queue: authenticate, de-duplicate, queue.

Receiving is hot path: gateways are authenticated from the Redis mirrors (never SQL),
and one Lua call de-duplicates by gateway message id and queues the SMS atomically;
validation happens later in a worker.

Credentials have a lifecycle. A secret is shown once, when it is made (the services
return it in plain text beside the model) and is stored hashed or encrypted
(models.GatewaySecret). A rotation keeps the old secret working for a grace period:
each secret in the mirror carries its expiry, checked at every request, so the grace
ends on time in every process whatever they have cached. Every change reaches the
mirrors when its transaction commits. Given an ``actor``, a change is also written to
the operator log, in the same transaction.
"""

import hashlib
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.crypto import secret_encrypt, secret_hint, secret_reencrypt, token_hash
from apps.core.exceptions import ApplicationError
from apps.core.operator_log import Actor, changes_between, operator_action_record

# The lookups live beside the mirrors; named here too for the callers of the services.
from .mirror import GatewayRecord as GatewayRecord
from .mirror import gateway_directory as gateway_directory
from .mirror import gateway_entry
from .mirror import gateway_lookup as gateway_lookup
from .mirror import gateway_lookup_by_token as gateway_lookup_by_token
from .mirror import gateway_token_directory as gateway_token_directory
from .models import Gateway, GatewaySecret
from .outbox import REDIS_CANNOT_TAKE, NotReplicated, sms_outbox_write, sms_queue
from .payloads import InboundSmsRecord
from .routes import send_routes_rebuild_on_commit
from .scope import countries_clean, receiving_number_clean, scope_check
from .send_config import SendConfig, send_config_clean

MAX_SMS_LENGTH = 2000  # concatenated SMS bodies stay far below this
MIN_SECRET_LENGTH = 16
DEFAULT_GRACE_SECONDS = 3600


# --- writes ------------------------------------------------------------------------------
@transaction.atomic
def gateway_create(
    *,
    kind: str,
    name: str,
    secret: str | None = None,
    countries: Iterable[int | str] = (),
    receiving_number: str = "",
    send: SendConfig | None = None,
    actor: Actor | None = None,
) -> tuple[Gateway, str]:
    """Create a gateway; returns it with its secret in plain text (shown once, stored hashed
    or encrypted). Send-only kinds (smtp, console) receive nothing, so they get no secret
    and the returned secret is empty."""
    if kind not in Gateway.Kind.values:
        raise ApplicationError(
            f"Unknown gateway kind {kind!r}; choose one of {', '.join(Gateway.Kind.values)}.", code="invalid"
        )
    sending = send_config_clean(kind=kind, config=send or SendConfig())
    gateway = Gateway(
        kind=kind,
        name=name,
        countries=countries_clean(countries),
        receiving_number=receiving_number_clean(kind=kind, raw=receiving_number),
        **sending.as_fields(),
    )
    if not gateway.receives and secret:
        raise ApplicationError(f"A {kind} gateway only sends: it takes no secret.", code="invalid")
    plain = _secret_choose(secret) if gateway.receives else ""
    gateway.save()
    if plain:
        _secret_add(gateway, plain)
    _mirror_on_commit(gateway)
    if actor is not None:
        operator_action_record(
            actor=actor, action="gateway.create", obj=gateway, summary=_scope_text(gateway)
        )
    return gateway, plain


@transaction.atomic
def gateway_update(
    *,
    gateway: Gateway,
    name: str,
    countries: Iterable[int | str],
    receiving_number: str,
    actor: Actor | None = None,
) -> Gateway:
    """Rename the gateway or change its scope (sender countries, receiving number)."""
    locked = _locked(gateway)
    old = {"name": locked.name, "countries": locked.countries, "receiving_number": locked.receiving_number}
    locked.name = name
    locked.countries = countries_clean(countries)
    locked.receiving_number = receiving_number_clean(kind=locked.kind, raw=receiving_number)
    locked.save(update_fields=["name", "countries", "receiving_number"])
    _mirror_on_commit(locked)
    new = {"name": locked.name, "countries": locked.countries, "receiving_number": locked.receiving_number}
    changes = changes_between(old, new)
    if actor is not None and changes:
        action = "gateway.scope" if set(changes) - {"name"} else "gateway.rename"
        summary = f"changed {', '.join(changes)}; now {_scope_text(locked)}"
        operator_action_record(actor=actor, action=action, obj=locked, summary=summary, changes=changes)
    return locked


@transaction.atomic
def gateway_send_update(*, gateway: Gateway, send: SendConfig, actor: Actor | None = None) -> Gateway:
    """Change how the gateway sends (URL, account, sender, priority); a blank password
    keeps the stored one. The password itself never reaches the operator log."""
    locked = _locked(gateway)
    sending = send_config_clean(kind=locked.kind, config=send)
    fields = sending.as_fields()
    if not sending.password:
        fields.pop("send_password")
    old = {name: getattr(locked, name) for name in fields}
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.save(update_fields=list(fields))
    _mirror_on_commit(locked)
    changes = changes_between(
        {k: ("…" if k == "send_password" else v) for k, v in old.items() if k != "send_password"},
        {k: v for k, v in fields.items() if k != "send_password"},
    )
    if "send_password" in fields:
        changes["send_password"] = {"old": "…", "new": "(changed)"}
    if actor is not None and changes:
        operator_action_record(
            actor=actor,
            action="gateway.sending",
            obj=locked,
            summary=f"changed {', '.join(changes)}",
            changes=changes,
        )
    return locked


def _scope_text(gateway: Gateway) -> str:
    countries = ", ".join(str(code) for code in gateway.countries) or "any"
    return f"countries {countries}; receiving number {gateway.receiving_number or 'any'}"


@transaction.atomic
def gateway_rotate(
    *,
    gateway: Gateway,
    secret: str | None = None,
    grace_seconds: float = DEFAULT_GRACE_SECONDS,
    actor: Actor | None = None,
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
    added = _secret_add(locked, plain)
    _mirror_on_commit(locked, dropped_hashes=[s.token_hash for s in dropped if s.token_hash])
    if actor is not None:
        until_text = f"works {grace_seconds:g} s more" if grace_seconds else "stopped at once"
        operator_action_record(
            actor=actor,
            action="gateway.rotate",
            obj=locked,
            summary=f"new secret …{added.hint}; the old one {until_text}",
        )
    return plain


def gateway_deactivate(*, gateway: Gateway, actor: Actor | None = None) -> bool:
    """Refuse the gateway's deliveries everywhere (within CREDENTIAL_LOCAL_CACHE_SECONDS).
    Returns False when it was inactive already."""
    return _active_set(gateway=gateway, active=False, actor=actor)


def gateway_activate(*, gateway: Gateway, actor: Actor | None = None) -> bool:
    return _active_set(gateway=gateway, active=True, actor=actor)


@transaction.atomic
def _active_set(*, gateway: Gateway, active: bool, actor: Actor | None) -> bool:
    locked = _locked(gateway)
    changed = locked.is_active != active
    if changed:
        locked.is_active = active
        locked.save(update_fields=["is_active"])
    gateway.is_active = active
    _mirror_on_commit(locked)  # also when unchanged: puts a mirror that drifted right
    if changed and actor is not None:
        operator_action_record(
            actor=actor,
            action="gateway.activate" if active else "gateway.deactivate",
            obj=locked,
            changes={"is_active": {"old": not active, "new": active}},
        )
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
    send_routes_rebuild_on_commit()  # every change may add, drop or rescope a sending route
    gateway_id = str(gateway.id)
    in_force = list(gateway.secrets.in_force())
    tokens = [s.token_hash for s in in_force] if gateway.kind == Gateway.Kind.NATIVE else []
    if gateway.is_active:
        gateway_directory.put_on_commit(gateway_id, gateway_entry(gateway, in_force).to_json())
        gateway_token_directory.change_on_commit(put=dict.fromkeys(tokens, gateway_id), delete=dropped_hashes)
    else:
        every = gateway.secrets.exclude(token_hash="").values_list("token_hash", flat=True)
        gateway_directory.delete_on_commit(gateway_id)
        gateway_token_directory.change_on_commit(delete=[*every, *dropped_hashes])


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

    status: ClassVar[str] = "queued"  # a repeat too: the first delivery is queued


def sms_enqueue(*, gateway: GatewayRecord, sms: InboundSms) -> EnqueueResult:
    """Queue ``sms`` once per gateway message id; a repeat returns the first uuid.

    When Redis cannot take it, the SMS goes to the PostgreSQL outbox (apps.inbound.outbox)
    and is acknowledged the same way; with both down the Redis error propagates (503).
    With INBOUND_ACK_REPLICAS set, a write no replica confirmed in INBOUND_ACK_WAIT_MS is
    kept in the outbox too before the gateway is acknowledged.
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
    record = InboundSmsRecord(
        uuid=str(uuid.uuid4()),
        gateway_id=gateway.id,
        gateway_kind=gateway.kind,
        message_id=sms.message_id,
        sender_number=sms.sender_number,
        sms_message=sms.sms_message,
        received_timestamp=sms.received_timestamp.isoformat(),
        queued_at=time.time(),
    )
    try:
        queued = sms_queue(record=record)
    except REDIS_CANNOT_TAKE as exc:
        # Acknowledged all the same: a gateway that does not retry (Twilio) would lose it.
        # No validation wake either: the broker is usually the same Redis.
        first_uuid, duplicate = sms_outbox_write(record=record, cause=exc)
        return EnqueueResult(uuid=first_uuid, duplicate=duplicate, kick=False)
    if not queued.replicated:
        # Queued, but on the primary alone: a failover now could lose it. PostgreSQL keeps
        # a copy, which the outbox move drops if the dedupe mark survived.
        sms_outbox_write(
            record=record, cause=NotReplicated(f"fewer than {settings.INBOUND_ACK_REPLICAS} replicas")
        )
    return EnqueueResult(uuid=queued.uuid, duplicate=not queued.created, kick=queued.kick)


def message_id_derive(*, sender: str, body: str, timestamp: str) -> str:
    """A stable id for gateways that send none: the same SMS delivered twice matches."""
    return hashlib.sha256(f"{sender}\x1f{body}\x1f{timestamp}".encode()).hexdigest()[:32]
