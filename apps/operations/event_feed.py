"""The admin's live feed: the newest events of the operators' feed (``event_feed``),
filtered by type, client and number.

Filtering happens here over a window of the newest entries, not in Redis: a stream has
no index but its ids, and an operator looks at what just happened.
"""

from dataclasses import dataclass

from apps.core import keys
from apps.core.history import Event, history_page, history_recent

WINDOW = 2000  # newest feed entries a page looks through
SHOWN = 200  # events a page shows at most


@dataclass(frozen=True)
class FeedFilter:
    type: str = ""  # an event type, or a family such as "otp." (every otp.* event)
    client_id: str = ""
    mobile: str = ""

    def matches(self, event: Event) -> bool:
        if self.type and not (
            event.type == self.type or (self.type.endswith(".") and event.type.startswith(self.type))
        ):
            return False
        if self.client_id and self.client_id not in event.client_ids:
            return False
        return not self.mobile or event.data.get("mobile_number") == self.mobile


def event_feed_recent(*, feed_filter: FeedFilter) -> list[Event]:
    """The newest matching events, newest first."""
    return [e for e in history_recent(keys.event_feed(), WINDOW) if feed_filter.matches(e)][:SHOWN]


def event_feed_after(*, after: str, feed_filter: FeedFilter) -> tuple[list[Event], str]:
    """Matching events after the id ``after``, oldest first, and the id to ask after next
    (the newest looked at, matching or not)."""
    page = history_page(keys.event_feed(), after, WINDOW)
    last = page.events[-1].id if page.events else after
    return [e for e in page.events if feed_filter.matches(e)], last
