"""Verified numbers reach the database once, with one callback for the proving client.

In-process (no worker) so that it runs on SQLite as well as PostgreSQL: the flow an
operator tries first with ``make run`` must hold on both.
"""

import pytest

from apps.clients.models import CallbackDelivery
from apps.core import keys
from apps.core.queues import queue_depth
from apps.core.redis import get_redis
from apps.onboarding.models import OutSms
from apps.onboarding.services.pipeline import sms_validate_pending
from apps.onboarding.services.verified import out_sms_flush
from tests.helpers import send_native

pytestmark = pytest.mark.django_db

NUMBER = "9876543210"


@pytest.fixture
def proved(api, make_client, make_gateway):
    """Two clients register NUMBER; the person texts the first one's hash."""
    owner = make_client("Owner", webhook_url="https://owner.example/hook")
    other = make_client("Other", webhook_url="https://other.example/hook")
    registration = api.get(f"/onboard/register/{NUMBER}", {"reference": "r-1"}, **owner.auth).json()
    api.get(f"/onboard/register/{NUMBER}", **other.auth)
    send_native(api, make_gateway("native").secret, NUMBER, registration["sms_body"])
    sms_validate_pending()
    return owner, registration


def test_the_flush_stores_the_number_and_one_callback_for_the_proving_client(
    proved, django_capture_on_commit_callbacks
):
    owner, registration = proved

    with django_capture_on_commit_callbacks(execute=False):
        assert out_sms_flush() == 1

    row = OutSms.objects.get()
    assert (row.local_mobile, row.sms_message) == (NUMBER, registration["sms_body"])
    delivery = CallbackDelivery.objects.get()
    assert str(delivery.client_id) == owner.id
    assert delivery.payload["registration_id"] == registration["registration_id"]
    assert delivery.payload["reference"] == "r-1"
    assert delivery.payload["mobile_number"] == NUMBER
    assert queue_depth(keys.out_sms_queue()) == 0


def test_a_replayed_record_writes_nothing_twice(proved, django_capture_on_commit_callbacks):
    record = str(get_redis().lindex(keys.out_sms_queue(), 0))
    with django_capture_on_commit_callbacks(execute=False):
        assert out_sms_flush() == 1
        get_redis().lpush(keys.out_sms_queue(), record)  # a batch replayed after a crash

        assert out_sms_flush() == 1

    assert OutSms.objects.count() == 1
    assert CallbackDelivery.objects.count() == 1
