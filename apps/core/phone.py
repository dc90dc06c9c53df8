"""Mobile numbers: parse with ``phonenumbers`` and key them the one way the bridge stores them.

Home-country numbers (DEFAULT_REGION) are keyed by their national significant number
(``9876543210``), all others by E.164 with its ``+``.
"""

from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from phonenumbers import PhoneNumberType

from .exceptions import ApplicationError

MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
MAX_INPUT_LENGTH = 32


@dataclass(frozen=True)
class Mobile:
    key: str  # the Redis/database key form
    e164: str
    country_code: int
    national: str

    @property
    def is_home(self) -> bool:
        return self.key == self.national


def mobile_parse(raw: str, *, require_mobile: bool = True) -> Mobile:
    """Parse ``raw`` or raise ApplicationError(code="invalid_mobile_number")."""
    text = (raw or "").strip()
    if not text or len(text) > MAX_INPUT_LENGTH:
        raise _invalid(raw)
    try:
        number = phonenumbers.parse(text, settings.DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise _invalid(raw) from exc
    # number_type is UNKNOWN exactly when is_valid_number is false (both match the number
    # against its region's patterns): one call instead of matching them twice.
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.UNKNOWN:
        raise _invalid(raw)
    if number.extension:
        # "9876543210 ext 5" parses as the number plus an extension; an SMS never comes
        # from an extension, so accepting one would key the same phone two ways.
        raise ApplicationError(f"{raw!r}: extensions are not accepted.", code="invalid_mobile_number")
    if require_mobile and kind not in MOBILE_TYPES:
        raise ApplicationError(f"{raw!r} is not a mobile number.", code="invalid_mobile_number")
    national = str(number.national_number)
    home_code = phonenumbers.country_code_for_region(settings.DEFAULT_REGION)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    key = national if number.country_code == home_code else e164
    return Mobile(key=key, e164=e164, country_code=number.country_code or 0, national=national)


def _invalid(raw: str) -> ApplicationError:
    shown = raw if len(raw or "") <= MAX_INPUT_LENGTH else raw[:MAX_INPUT_LENGTH] + "..."
    return ApplicationError(f"{shown!r} is not a valid phone number.", code="invalid_mobile_number")
