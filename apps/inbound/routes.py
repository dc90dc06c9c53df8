"""Where messages may go: the destinations the enabled sending gateways cover, in Redis.

``POST /notifications`` must refuse a destination no gateway can reach (403) without
asking PostgreSQL, so the routes are mirrored into the ``send_routes`` HASH: one field
``{channel}:{country calling code}`` (or ``{channel}:*`` for a gateway without a
country list) per route. The whole mirror is rebuilt from the Gateway table after
every gateway change commits (a handful of rows), and by the Redis repair.
"""

from django.db import transaction

from apps.core import keys
from apps.core.directory import RedisDirectory

from .models import Gateway

ANY_COUNTRY = "*"
CHANNELS = ("sms", "email")


def route_field(channel: str, country: str = ANY_COUNTRY) -> str:
    return f"{channel}:{country}"


def gateway_routes(gateway: Gateway) -> list[str]:
    """The route fields ``gateway`` provides (none unless it is active and set up to send)."""
    if not gateway.is_active or not gateway.sends:
        return []
    channels = CHANNELS if gateway.channel == "any" else (gateway.channel,)
    fields = []
    for channel in channels:
        countries = [str(code) for code in gateway.countries] if channel == "sms" else []
        fields += [route_field(channel, code) for code in countries or [ANY_COUNTRY]]
    return fields


def _route_mapping() -> dict[str, str]:
    mapping: dict[str, str] = {}
    for gateway in Gateway.objects.filter(is_active=True):
        for field in gateway_routes(gateway):
            mapping[field] = str(int(mapping.get(field, "0")) + 1)  # gateways on the route
    return mapping


def _count(field: str, raw: str) -> int:
    return int(raw)


send_route_directory = RedisDirectory(keys.send_routes, _route_mapping, parse=_count)


def send_routes_rebuild_on_commit() -> None:
    transaction.on_commit(send_route_directory.rebuild)
