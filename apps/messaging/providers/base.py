"""What every sending provider adapter is: send one message, say how it went.

An adapter speaks one provider's real API (providers/<kind>.py). The sender
(services/sender.py) routes, retries and records; an adapter only sends, and tells a
failure of the gateway (``GatewayError``: connection refused, time-out, 5xx, the
provider refusing the account) from a failure of the message (``MessageRejected``: an
invalid number the provider will never accept), since the first moves the message to
the next gateway and the second fails it at once.
"""

from dataclasses import dataclass
from enum import Enum
from typing import Protocol


@dataclass(frozen=True)
class SendingGateway:
    """A gateway as the sender uses it: its sending settings, secrets decrypted."""

    id: str
    kind: str
    name: str
    channel: str  # "sms", "email" or "any"
    countries: frozenset[int]
    priority: int
    url: str
    username: str
    password: str  # the send password, else the gateway's secret in force (Twilio's auth token)
    sender: str  # send_from: a number, sender id or address; "" for the provider's default

    def covers(self, channel: str, country_code: int | None) -> bool:
        if self.channel not in (channel, "any"):
            return False
        return channel != "sms" or not self.countries or country_code in self.countries


@dataclass(frozen=True)
class OutboundMessage:
    id: str  # the notification id; adapters pass it on where the provider takes an id
    channel: str
    to: str  # E.164 number or email address
    body: str
    subject: str = ""
    sensitive: bool = False  # never log the body


@dataclass(frozen=True)
class Sent:
    provider_id: str  # the provider's message id: delivery receipts name it


class Lookup(Enum):
    """What a provider knows of a message whose send outcome was lost with its worker."""

    SENT = "sent"
    NOT_SENT = "not_sent"
    UNKNOWN = "unknown"  # the provider cannot say: the sender sends again (at least once)


class GatewayError(Exception):
    """The gateway failed (not the message): skip it for a cool-down, try the next."""


class MessageRejected(Exception):
    """The provider refuses this message for good (an invalid number): fail it now."""


class Provider(Protocol):
    def send(self, gateway: SendingGateway, message: OutboundMessage) -> Sent: ...

    def lookup(self, gateway: SendingGateway, message: OutboundMessage) -> tuple[Lookup, str]:
        """After a worker died mid-send: whether the provider has the message (and its id)."""
        ...
