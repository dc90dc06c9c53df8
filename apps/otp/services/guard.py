"""Operators' side of the SMS-pumping guard: policies, the safe list, lifting a blocked prefix.

Each write changes PostgreSQL first and Redis after the commit (the mirrors the request
path reads), so a rolled-back change never reaches the hot path.
"""

from dataclasses import dataclass

from django.db import transaction

from apps.core import keys
from apps.core.operator_log import Actor, operator_action_record
from apps.core.redis import get_redis

from ..mirror import policy_directory, policy_view
from ..models import OtpPolicy, OtpSafeNumber


def otp_policy_save(*, policy: OtpPolicy) -> OtpPolicy:
    with transaction.atomic():
        policy.full_clean()
        policy.save()
        policy_directory.put_on_commit(str(policy.client_id), policy_view(policy).to_json())
    return policy


def otp_policy_delete(*, policy: OtpPolicy) -> None:
    with transaction.atomic():
        client_id = str(policy.client_id)
        policy.delete()
        policy_directory.delete_on_commit(client_id)


def otp_safe_number_add(*, mobile: str, note: str = "") -> OtpSafeNumber:
    with transaction.atomic():
        safe, _ = OtpSafeNumber.objects.update_or_create(mobile=mobile, defaults={"note": note})
        transaction.on_commit(lambda: get_redis().sadd(keys.otp_safe_numbers(), mobile))
    return safe


def otp_safe_number_remove(*, safe: OtpSafeNumber) -> None:
    mobile = safe.mobile
    with transaction.atomic():
        safe.delete()
        transaction.on_commit(lambda: get_redis().srem(keys.otp_safe_numbers(), mobile))


@dataclass(frozen=True)
class BlockedPrefix:
    client_id: str
    prefix: str  # "91-9876": country code, then the first digits of the national number
    until_ms: int

    @property
    def member(self) -> str:
        return f"{self.client_id}:{self.prefix}"


def blocked_prefix_parse(member: str, until_ms: float) -> BlockedPrefix | None:
    client_id, sep, prefix = member.partition(":")
    return BlockedPrefix(client_id, prefix, int(until_ms)) if sep and prefix else None


def otp_prefix_lift(*, client_id: str, prefix: str, actor: Actor) -> bool:
    """End a prefix's block now, its figures counted afresh; False when it was not blocked."""
    with get_redis().pipeline(transaction=True) as pipe:
        pipe.delete(keys.otp_prefix_block(client_id, prefix))
        pipe.zrem(keys.otp_blocked_prefixes(), f"{client_id}:{prefix}")
        pipe.delete(keys.otp_conversion(client_id, prefix), keys.otp_pending(client_id, prefix))
        was_blocked, *_ = pipe.execute()
    if was_blocked:
        operator_action_record(
            actor=actor,
            action="otp.prefix_lift",
            object_type="OTP prefix",
            object_id=prefix,
            object_label=f"{prefix} of client {client_id}",
            summary=f"lifted the OTP block of prefix {prefix} for client {client_id}",
        )
    return bool(was_blocked)
