"""A gateway's scope: the sender countries it may deliver and the number it receives on.

A leaked gateway secret lets its holder assert any sender; a scope bounds the damage
to the senders and the receiving number the gateway really serves.
"""

from collections.abc import Iterable

import phonenumbers
from django.conf import settings
from rest_framework import status

from apps.core.exceptions import ApplicationError

# Gateways whose deliveries always name the receiving number (Twilio's To, Jasmin's to).
# SMS Gateway for Android sends ``recipient`` only when the phone knows its own number,
# and the native format has no such field.
RECIPIENT_REQUIRED_KINDS = frozenset({"twilio", "jasmin"})
RECIPIENT_REPORTING_KINDS = RECIPIENT_REQUIRED_KINDS | {"android"}


def countries_clean(countries: Iterable[int | str]) -> list[int]:
    """Country calling codes (``91``, ``"+44"``), checked to exist, sorted, once each."""
    codes = set()
    for raw in countries:
        text = str(raw).strip().removeprefix("+")
        if not text:
            continue
        if not text.isdigit() or phonenumbers.region_code_for_country_code(int(text)) == "ZZ":
            raise ApplicationError(f"{raw!r} is not a country calling code (like 91 or 44).", code="invalid")
        codes.add(int(text))
    return sorted(codes)


def countries_parse(text: str) -> list[int]:
    """``"91,44"`` (the command's and the admin's form) as calling codes."""
    return countries_clean(text.split(","))


def receiving_number_clean(*, kind: str, raw: str) -> str:
    if not raw.strip():
        return ""
    if kind not in RECIPIENT_REPORTING_KINDS:
        raise ApplicationError(
            f"A {kind} gateway does not report the number it received on, so it cannot have one.",
            code="invalid",
        )
    normal = number_normalize(raw)
    if not normal.lstrip("+"):
        raise ApplicationError(f"{raw!r} is not a phone number.", code="invalid")
    return normal


def number_normalize(raw: str) -> str:
    """E.164 for a valid number (national forms read in DEFAULT_REGION); else its digits,
    so short codes and numbers the metadata does not know still compare."""
    try:
        number = phonenumbers.parse(raw, settings.DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return "".join(ch for ch in raw if ch.isdigit())


def sender_country_code(raw: str) -> int | None:
    try:
        return phonenumbers.parse(raw, settings.DEFAULT_REGION).country_code
    except phonenumbers.NumberParseException:
        return None


def scope_check(
    *, kind: str, countries: frozenset[int], receiving_number: str, sender: str, recipient: str | None
) -> None:
    """Refuse (403) an SMS this gateway may not deliver."""
    if countries and sender_country_code(sender) not in countries:
        raise _out_of_scope("This gateway may not deliver SMS from this sender's country.", "sender")
    if not receiving_number:
        return
    if recipient is None or not recipient.strip():
        if kind in RECIPIENT_REQUIRED_KINDS:
            raise _out_of_scope("The delivery does not say which number received the SMS.", "recipient")
        return
    if number_normalize(recipient) != receiving_number:
        raise _out_of_scope("This gateway may deliver only SMS sent to its receiving number.", "recipient")


def _out_of_scope(detail: str, what: str) -> ApplicationError:
    return ApplicationError(detail, code=f"{what}_out_of_scope", status_code=status.HTTP_403_FORBIDDEN)
