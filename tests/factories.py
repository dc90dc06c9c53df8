"""factory_boy factories for the rows tests write directly, without the service that would.

A test that is about a service (``client_create``, ``gateway_create``, the drains) calls the
service; a test that needs rows to look at (admin lists, the dashboard, the repair) builds
them here and names only the fields it is about. Every value is a plausible one: an Indian
mobile number that validates, a verdict the pipeline writes, a payload a callback carries.
"""

import uuid

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from apps.abuse.models import BlacklistAction, BlacklistEntry
from apps.audit.models import MonitorEvent
from apps.clients.models import CallbackDelivery, Client
from apps.onboarding.models import OutSms


def _event_id() -> str:
    return uuid.uuid4().hex


class ClientFactory(DjangoModelFactory[Client]):
    """A client app row without an API key (``make_client`` makes one with a key)."""

    class Meta:
        model = Client

    name = factory.Sequence(lambda n: f"Client {n}")
    webhook_url = "https://app.example/hook"
    webhook_secret = factory.Sequence(lambda n: f"whsec_test{n}")


class CallbackDeliveryFactory(DjangoModelFactory[CallbackDelivery]):
    """A callback due now that no worker has tried yet."""

    class Meta:
        model = CallbackDelivery

    class Params:
        client_id = None  # tests hold a client's id (ClientCreds.id): use that client

    client = factory.Maybe(
        "client_id",
        yes_declaration=factory.LazyAttribute(lambda row: Client.objects.get(pk=row.client_id)),
        no_declaration=factory.SubFactory(ClientFactory),
    )
    event_id = factory.LazyFunction(_event_id)
    payload = factory.LazyFunction(lambda: {"event": "number.verified", "mobile_number": "9876543210"})
    status = CallbackDelivery.Status.PENDING
    attempts = 0
    next_attempt_at = factory.LazyFunction(timezone.now)


class MonitorEventFactory(DjangoModelFactory[MonitorEvent]):
    """An audit row: by default a valid SMS from an Indian number, just now."""

    class Meta:
        model = MonitorEvent

    event_id = factory.LazyFunction(_event_id)
    occurred_at = factory.LazyFunction(timezone.now)
    status = "valid"
    mobile = "9876543210"
    country_code = "91"


class OutSmsFactory(DjangoModelFactory[OutSms]):
    """A verified number, received and verified just now."""

    class Meta:
        model = OutSms

    local_mobile = "9876543210"
    country_code = "91"
    sender_number = factory.LazyAttribute(lambda row: f"+{row.country_code}{row.local_mobile}")
    sms_message = "ONBOARD:abc"
    received_at = factory.LazyFunction(timezone.now)
    verified_at = factory.LazyAttribute(lambda row: row.received_at)


class BlacklistEntryFactory(DjangoModelFactory[BlacklistEntry]):
    """A number an operator blacklisted just now, with no expiry."""

    class Meta:
        model = BlacklistEntry

    mobile = "9876543299"
    source = "admin"
    created_at = factory.LazyFunction(timezone.now)


class BlacklistActionFactory(DjangoModelFactory[BlacklistAction]):
    """A stored blacklist action (the drain's record of an add or remove)."""

    class Meta:
        model = BlacklistAction

    event_id = factory.LazyFunction(_event_id)
    action = BlacklistAction.Action.ADD
    mobile = "9876543299"
    source = "admin"
    occurred_at = factory.LazyFunction(timezone.now)
