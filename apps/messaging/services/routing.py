"""Which gateways may send a message, in which order (workers and commands: SQL allowed).

A message goes to the enabled sending gateways of its channel whose countries cover the
destination, lowest ``priority`` first (then by name, so the order is stable). The
list is read from PostgreSQL and kept per process for ROUTES_LOCAL_CACHE_SECONDS.
"""

import time

import phonenumbers
from django.db.models import Prefetch

from apps.core.crypto import secret_decrypt
from apps.inbound.models import Gateway, GatewaySecret

from ..providers.base import SendingGateway

ROUTES_LOCAL_CACHE_SECONDS = 5.0

_cache: dict[str, object] = {"at": 0.0, "gateways": []}


def sending_gateway(gateway: Gateway, in_force: list[GatewaySecret] | None = None) -> SendingGateway:
    """``gateway`` as the sender uses it, its password decrypted."""
    secrets = in_force if in_force is not None else list(gateway.secrets.in_force())
    fallback = next((secret_decrypt(s.ciphertext) for s in secrets if s.ciphertext), "")
    return SendingGateway(
        id=str(gateway.id),
        kind=gateway.kind,
        name=gateway.name,
        channel=gateway.channel,
        countries=frozenset(gateway.countries),
        priority=gateway.priority,
        url=gateway.send_url,
        username=gateway.send_username,
        password=gateway.send_password or fallback,
        sender=gateway.send_from,
    )


def sending_gateways(*, fresh: bool = False) -> list[SendingGateway]:
    """Every active gateway set up to send, in sending order."""
    now = time.monotonic()
    if not fresh and now - float(_cache["at"]) < ROUTES_LOCAL_CACHE_SECONDS:  # type: ignore[arg-type]
        return list(_cache["gateways"])  # type: ignore[call-overload]
    in_force = Prefetch("secrets", queryset=GatewaySecret.objects.in_force(), to_attr="in_force")
    rows = Gateway.objects.filter(is_active=True).prefetch_related(in_force).order_by("priority", "name")
    found = [sending_gateway(g, g.in_force) for g in rows if g.sends]
    _cache.update(at=now, gateways=found)
    return list(found)


def routes_for(*, channel: str, to: str) -> list[SendingGateway]:
    """The gateways that may send to ``to`` on ``channel``, in the order to try them."""
    country = destination_country(channel=channel, to=to)
    return [g for g in sending_gateways() if g.covers(channel, country)]


def destination_country(*, channel: str, to: str) -> int | None:
    if channel != "sms":
        return None
    try:
        return phonenumbers.parse(to).country_code
    except phonenumbers.NumberParseException:
        return None


def routes_forget() -> None:
    """Drop this process's copy (tests, and after an operator changes a gateway here)."""
    _cache.update(at=0.0, gateways=[])
