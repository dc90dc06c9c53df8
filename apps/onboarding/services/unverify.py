"""Operator action: forget that a number is verified, so it may onboard again."""

from django.db import transaction

from apps.core import keys
from apps.core.models import OperatorAction
from apps.core.operator_log import Actor, operator_action_record
from apps.core.redis import get_redis

from ..models import OutSms


def number_unverify(*, mobile: str, actor: Actor | None = None) -> bool:
    """Remove the normalized ``mobile`` from ``out_sms_numbers`` and its ``out_sms`` row.

    Redis first, then PostgreSQL, in one transaction. The hot path trusts Redis alone,
    so the SREM is what un-verifies; the row is the durable copy the repair task
    reloads Redis from. If Redis fails, nothing has changed and the operator retries.
    If the delete fails after the SREM, the row stays and the operator sees it still
    listed and retries; the worst case is a repair putting the number back (verified
    again, the state the operator started from). The other order could leave the
    number verified in Redis with no row left in the admin to act on.

    With an ``actor``, the operator log is written first in the same transaction: if it
    cannot be, Redis is not touched.

    Returns True when the number was verified in Redis or PostgreSQL.
    """
    with transaction.atomic():
        record = _record(actor, mobile) if actor is not None else None
        removed = get_redis().srem(keys.out_sms_numbers(), mobile)
        deleted, _ = OutSms.objects.filter(local_mobile=mobile).delete()
        changed = bool(removed) or deleted > 0
        if record is not None and not changed:
            record.delete()  # it was not verified: nothing happened to trace
    return changed


def _record(actor: Actor, mobile: str) -> OperatorAction:
    row = OutSms.objects.filter(local_mobile=mobile).first()
    verified_at = row.verified_at.isoformat() if row else None
    return operator_action_record(
        actor=actor,
        action="number.unverify",
        object_type="verified number",
        object_id=mobile,
        object_label=mobile,
        summary=f"verified at {verified_at}" if verified_at else "verified in Redis only",
        changes={"verified": {"old": True, "new": False}},
    )
