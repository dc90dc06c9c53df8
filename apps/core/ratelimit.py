"""What a rate limit answers: the headers of every limited endpoint and its 429.

The limits themselves run inside each endpoint's one Lua round trip (GCRA,
``apps/core/lua/rate_limit.lua``), so checking a limit costs no extra trip to Redis.
The ``limits`` library was considered: it needs its own round trip per limit and
cannot share the endpoint's script, so the hot path would pay two to four trips.

Headers follow the IETF RateLimit header fields draft: ``RateLimit-Limit``,
``RateLimit-Remaining`` and ``RateLimit-Reset`` (seconds until the budget is whole).
"""

from dataclasses import dataclass

from rest_framework import status

from .exceptions import ApplicationError


@dataclass(frozen=True)
class RateLimitState:
    limit: int
    remaining: int
    reset_ms: int
    retry_after_ms: int = 0

    @classmethod
    def from_reply(
        cls, limit: int, remaining: int, reset_ms: int, retry_after_ms: int = 0
    ) -> "RateLimitState":
        return cls(int(limit), int(remaining), int(reset_ms), int(retry_after_ms))

    @property
    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(max(0, self.remaining)),
            "RateLimit-Reset": str(_seconds(self.reset_ms)),
        }

    @property
    def retry_after(self) -> int:
        return max(1, _seconds(self.retry_after_ms))


def _seconds(ms: int) -> int:
    return max(0, -(-ms // 1000))


def rate_limited(state: RateLimitState, detail: str = "Too many requests; retry later.") -> ApplicationError:
    return ApplicationError(
        detail,
        code="rate_limited",
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        retry_after=state.retry_after,
        headers=state.headers,
        extra={"retry_after": state.retry_after},
    )
