"""Operator action: forget that a number is verified, so it may onboard again."""

from django.db import transaction

from apps.core import keys
from apps.core.redis import get_redis

from ..models import OutSms


def number_unverify(*, mobile: str) -> bool:
    """Remove the normalized ``mobile`` from ``out_sms_numbers`` and its ``out_sms`` row.

    Redis first, then PostgreSQL, in one transaction. The hot path trusts Redis alone,
    so the SREM is what un-verifies; the row is the durable copy the repair task
    reloads Redis from. If Redis fails, nothing has changed and the operator retries.
    If the delete fails after the SREM, the row stays and the operator sees it still
    listed and retries; the worst case is a repair putting the number back (verified
    again, the state the operator started from). The other order could leave the
    number verified in Redis with no row left in the admin to act on.

    Returns True when the number was verified in Redis or PostgreSQL.
    """
    with transaction.atomic():
        removed = get_redis().srem(keys.out_sms_numbers(), mobile)
        deleted, _ = OutSms.objects.filter(local_mobile=mobile).delete()
    return bool(removed) or deleted > 0
