"""What onboarding puts on Redis queues, one class per payload, written and read through it.

A new web process and an old worker (or the reverse) meet during every rolling deploy,
so each payload carries a version and ``from_json`` still reads the previous one.
"""

from dataclasses import dataclass

from apps.core.payloads import payload_build, payload_dumps, payload_loads


@dataclass(frozen=True)
class VerifiedRecord:
    """A valid SMS on ``out_sms_queue``: written to ``out_sms`` and called back to one client.

    v2 names the registration the SMS completed; v1 (before registrations) listed every
    client with an open registration of the number in ``client_ids``, and every one of
    them was called back.
    """

    sms_uuid: str
    mobile: str
    country_code: str
    sender_number: str
    sms_message: str
    gateway_id: str | None
    received_at: str  # ISO 8601
    verified_at: float  # epoch seconds
    registration_id: str = ""
    client_id: str = ""
    reference: str = ""
    legacy_client_ids: tuple[str, ...] = ()  # a v1 record's client_ids

    VERSION = 2

    def to_json(self) -> str:
        return payload_dumps(self, version=self.VERSION)

    @classmethod
    def from_json(cls, raw: str | bytes) -> "VerifiedRecord":
        version, data = payload_loads(raw)
        if version == 1:
            data["legacy_client_ids"] = data.pop("client_ids", ())
        data["legacy_client_ids"] = tuple(data.get("legacy_client_ids", ()))
        return payload_build(cls, data)

    @property
    def client_ids(self) -> tuple[str, ...]:
        """The clients to call back: the one whose registration was proved."""
        return (self.client_id,) if self.client_id else self.legacy_client_ids
