"""Gateways (writes) and the inbound queue: authenticate, de-duplicate, queue, answer.

Receiving is hot path: one Lua call to Redis de-duplicates by gateway message id and
queues the SMS atomically; validation happens later in a worker.
"""

import hashlib
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from apps.core import keys
from apps.core.directory import RedisDirectory
from apps.core.exceptions import ApplicationError
from apps.core.redis import run_script

from .models import Gateway

MAX_SMS_LENGTH = 2000  # concatenated SMS bodies stay far below this


@dataclass(frozen=True)
class GatewayRecord:
    id: str
    kind: str
    secret: str


def _gateway_mapping() -> dict[str, str]:
    rows = Gateway.objects.filter(is_active=True)
    return {str(g.id): json.dumps({"kind": g.kind, "secret": g.secret}) for g in rows}


def _token_mapping() -> dict[str, str]:
    rows = Gateway.objects.filter(is_active=True, kind=Gateway.Kind.NATIVE)
    return {token_hash(g.secret): str(g.id) for g in rows}


gateway_directory = RedisDirectory(keys.gateways, _gateway_mapping)
gateway_token_directory = RedisDirectory(keys.gateway_tokens, _token_mapping)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def gateway_create(*, kind: str, name: str, secret: str | None = None) -> Gateway:
    if kind not in Gateway.Kind.values:
        raise ApplicationError(
            f"Unknown gateway kind {kind!r}; choose one of {', '.join(Gateway.Kind.values)}.", code="invalid"
        )
    if secret is not None and len(secret) < 16:
        raise ApplicationError("A gateway secret needs at least 16 characters.", code="invalid")
    gateway = Gateway.objects.create(kind=kind, name=name, secret=secret or secrets.token_urlsafe(32))
    gateway_directory.put_on_commit(str(gateway.id), json.dumps({"kind": kind, "secret": gateway.secret}))
    if kind == Gateway.Kind.NATIVE:
        gateway_token_directory.put_on_commit(token_hash(gateway.secret), str(gateway.id))
    return gateway


def gateway_lookup(*, gateway_id: str, kind: str) -> GatewayRecord | None:
    """The active gateway ``gateway_id`` of ``kind``, from Redis; None when unknown."""
    try:
        uuid.UUID(gateway_id)
    except ValueError:
        return None
    raw = gateway_directory.get(gateway_id)
    if raw is None:
        return None
    data = json.loads(raw)
    if data["kind"] != kind:
        return None
    return GatewayRecord(id=gateway_id, kind=data["kind"], secret=data["secret"])


def gateway_lookup_by_token(*, token: str) -> GatewayRecord | None:
    gateway_id = gateway_token_directory.get(token_hash(token))
    return gateway_lookup(gateway_id=gateway_id, kind=Gateway.Kind.NATIVE) if gateway_id else None


@dataclass(frozen=True)
class InboundSms:
    sender_number: str
    sms_message: str
    received_timestamp: datetime
    message_id: str  # the gateway's delivery id, used to drop repeated deliveries


@dataclass(frozen=True)
class EnqueueResult:
    uuid: str
    duplicate: bool
    kick: bool  # this request should wake a validation worker


def sms_enqueue(*, gateway: GatewayRecord, sms: InboundSms) -> EnqueueResult:
    """Queue ``sms`` once per gateway message id; a repeat returns the first uuid."""
    if len(sms.sms_message) > MAX_SMS_LENGTH:
        raise ApplicationError(f"sms_message is longer than {MAX_SMS_LENGTH} characters.", code="invalid")
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
