import uuid

import pytest
from django.utils import timezone

from apps.core import keys
from apps.core.redis import get_redis
from apps.onboarding.models import OutSms
from apps.onboarding.services.unverify import number_unverify

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/onboarding/outsms/"


def verified(mobile: str) -> OutSms:
    get_redis().sadd(keys.out_sms_numbers(), mobile)
    now = timezone.now()
    return OutSms.objects.create(
        uuid=uuid.uuid4(),
        local_mobile=mobile,
        country_code="91",
        sender_number=f"+91{mobile}",
        sms_message="ONBOARD:abc",
        received_at=now,
        verified_at=now,
    )


def is_verified_in_redis(mobile: str) -> bool:
    return bool(get_redis().sismember(keys.out_sms_numbers(), mobile))


def test_unverify_clears_redis_and_the_row_of_the_selected_numbers_only(admin_client):
    gone, kept = verified("9876543210"), verified("9123456789")

    response = admin_client.post(
        CHANGELIST, {"action": "unverify", "_selected_action": [gone.pk]}, follow=True
    )

    assert "Un-verified 1 number(s)." in [str(m) for m in response.context["messages"]]
    assert not is_verified_in_redis("9876543210")
    assert not OutSms.objects.filter(pk=gone.pk).exists()
    assert is_verified_in_redis("9123456789")
    assert OutSms.objects.filter(pk=kept.pk).exists()


def test_verified_numbers_are_listed_and_found_by_number(admin_client):
    verified("9876543210")
    verified("9123456789")

    response = admin_client.get(CHANGELIST, {"q": "+91 98765 43210"})

    assert [row.local_mobile for row in response.context["cl"].result_list] == ["9876543210"]


def test_a_row_cannot_be_deleted_on_its_own(admin_client):
    row = verified("9876543210")

    assert admin_client.post(f"{CHANGELIST}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert is_verified_in_redis("9876543210")


def test_number_unverify_reports_whether_the_number_was_verified():
    get_redis().sadd(keys.out_sms_numbers(), "9876543210")  # verified, row not drained yet

    assert number_unverify(mobile="9876543210") is True
    assert number_unverify(mobile="9876543210") is False
