"""The OTP policies and the safe list, mirrored into Redis so the request path needs no SQL.

Policies are a credential-style mirror (``apps.core.directory``): one HASH field per
client that has a policy, rebuilt by the Redis repair. A client without a policy is
the common case, so its absence is remembered in-process too (RedisDirectory keeps only
hits): otherwise every request of such a client would pay a Redis round trip for it.
The safe list is a SET the repair rebuilds like the verified numbers.
"""

import time

from django.conf import settings

from apps.core import keys
from apps.core.directory import RedisDirectory

from .models import OtpPolicy
from .payloads import NO_POLICY, OtpPolicyView


def _policy_mapping() -> dict[str, str]:
    return {str(p.client_id): policy_view(p).to_json() for p in OtpPolicy.objects.all()}


def policy_view(policy: OtpPolicy) -> OtpPolicyView:
    return OtpPolicyView(
        countries=tuple(policy.allowed_country_codes or ()), template=policy.message_template
    )


def _parse(field: str, raw: str) -> OtpPolicyView:
    return OtpPolicyView.from_json(raw)


class PolicyDirectory(RedisDirectory[OtpPolicyView]):
    def __init__(self) -> None:
        super().__init__(keys.otp_policies, _policy_mapping, parse=_parse)
        self._absent: dict[str, float] = {}

    def policy(self, client_id: str) -> OtpPolicyView:
        """The client's policy, or NO_POLICY; at most CREDENTIAL_LOCAL_CACHE_SECONDS old."""
        now = time.monotonic()
        absent_at = self._absent.get(client_id)
        if absent_at is not None and now - absent_at < settings.CREDENTIAL_LOCAL_CACHE_SECONDS:
            return NO_POLICY
        found = self.get(client_id)
        if found is None:
            self._absent[client_id] = now
            return NO_POLICY
        self._absent.pop(client_id, None)
        return found

    def forget_local(self) -> None:
        super().forget_local()
        self._absent.clear()

    def change_now(self, *, put: dict[str, str], delete: list[str]) -> None:
        super().change_now(put=put, delete=delete)
        for field in (*put, *delete):
            self._absent.pop(field, None)


policy_directory = PolicyDirectory()
