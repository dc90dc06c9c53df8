"""One-time codes: how they are made, kept (as an HMAC) and grouped by destination prefix."""

import functools
import hashlib
import hmac
import ipaddress
import secrets

from django.conf import settings
from django.utils.crypto import salted_hmac

from apps.core.exceptions import ApplicationError
from apps.core.phone import Mobile

IP_MAX_LENGTH = 64


def otp_code_generate(*, length: int) -> str:
    """``length`` decimal digits from the OS's CSPRNG (``secrets``), leading zeros kept."""
    return str(secrets.randbelow(10**length)).zfill(length)


@functools.cache
def _hmac_key(configured: str, secret_key: str) -> bytes:
    if configured:
        return configured.encode()
    # A key of its own, derived: the HMAC of OTPs never shares a key with sessions or tokens.
    return salted_hmac("smsbridge.otp.hmac-key", "otp", secret=secret_key, algorithm="sha256").digest()


def otp_hash(*, client_id: str, mobile: str, code: str) -> str:
    """HMAC-SHA256 of client, number and code, keyed by OTP_HMAC_KEY (or one derived from
    SECRET_KEY). A plain SHA-256 of six digits is reversed by trying all 10^6 in a
    millisecond by whoever reads Redis; without the key no code can be tested offline.
    Binding client and number means a hash copied to another key proves nothing there."""
    key = _hmac_key(settings.OTP_HMAC_KEY, settings.SECRET_KEY)
    return hmac.new(key, f"{client_id}:{mobile}:{code}".encode(), hashlib.sha256).hexdigest()


def destination_prefix(mobile: Mobile, *, digits: int) -> str:
    """Country code and the first ``digits`` of the national number (``91-9876``): the unit
    SMS pumping attacks (ranges of premium numbers) and the guard counts by."""
    return f"{mobile.country_code}-{mobile.national[:digits]}"


def end_user_ip_key(raw: str) -> str:
    """The address an end-user limit counts by: an IPv4 address, or an IPv6 address's /64
    (one subscriber's allocation: per-address limits would be trivially dodged)."""
    text = (raw or "").strip()
    try:
        address = ipaddress.ip_address(text) if len(text) <= IP_MAX_LENGTH else None
    except ValueError:
        address = None
    if address is None:
        raise ApplicationError(f"end_user_ip: {raw[:IP_MAX_LENGTH]!r} is not an IP address.", code="invalid")
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def otp_body_render(*, template: str, code: str, ttl_seconds: int) -> str:
    minutes = max(1, -(-ttl_seconds // 60))
    return template.replace("{code}", code).replace("{minutes}", str(minutes))
