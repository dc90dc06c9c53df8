"""What the OTP app keeps in Redis, one class per payload, written and read through it.

``otp:{client_id}:{mobile}`` holds ``{otp_hash, mobile_number, created_at, expires_at}``
(the contract's fields) plus the version every payload of the bridge carries. The code
itself is never stored: ``otp_hash`` is an HMAC keyed by a server secret (services/codes.py).
"""

import json
from dataclasses import dataclass
from typing import ClassVar

from apps.core.payloads import payload_build, payload_dumps, payload_loads


@dataclass(frozen=True)
class OtpRecord:
    otp_hash: str  # hex HMAC-SHA256 of client, number and code
    mobile_number: str  # the number as the bridge keys it
    created_at: str  # ISO 8601 UTC with Z
    expires_at: str
    # The code's SMS: when it fails, the code ends (nobody received it), so the client may
    # ask for another at once instead of a 409 until it expires. v1 records have none.
    notification_id: str = ""

    VERSION: ClassVar[int] = 2

    def to_json(self) -> str:
        return payload_dumps(self, version=self.VERSION)

    @classmethod
    def from_json(cls, raw: str | bytes) -> "OtpRecord":
        _, data = payload_loads(raw)
        return payload_build(cls, data)


@dataclass(frozen=True)
class OtpPolicyView:
    """A client's OTP policy as the request path reads it from the ``otp_policies`` mirror."""

    countries: tuple[str, ...] = ()  # empty: the otp_allowed_country_codes setting
    template: str = ""  # empty: the otp_message_template setting

    def to_json(self) -> str:
        return json.dumps(
            {"countries": list(self.countries), "template": self.template}, separators=(",", ":")
        )

    @classmethod
    def from_json(cls, raw: str) -> "OtpPolicyView":
        data = json.loads(raw)
        return cls(
            countries=tuple(str(c) for c in data.get("countries") or ()), template=data.get("template") or ""
        )


NO_POLICY = OtpPolicyView()
