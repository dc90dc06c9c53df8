from typing import Any

from django.core.management.base import CommandParser

from apps.abuse.services import blacklist_add, blacklist_flush, blacklist_mobile_parse, blacklist_remove
from apps.core import keys
from apps.core.commands import OperatorCommand
from apps.core.phone import Mobile, mobile_parse
from apps.core.redis import get_redis

SOURCE = "command"


class Command(OperatorCommand):
    help = "Blacklist numbers, lift a blacklisting, or list the blacklist (Redis, which the hot path reads)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Blacklist numbers at once")
        add.add_argument("numbers", nargs="+")
        add.add_argument("--reason", default="")
        remove = sub.add_parser("remove", help="Lift the blacklisting of numbers")
        remove.add_argument("numbers", nargs="+")
        remove.add_argument("--reason", default="")
        listing = sub.add_parser("list", help="Print blacklisted numbers")
        listing.add_argument("--limit", type=int, default=100, help="At most this many (0: all)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            self._list(options["limit"])
            return
        adding = options["action"] == "add"
        # Every number is read before any is changed: a typo in the fifth changes nothing.
        mobiles = [_parse(raw, adding=adding) for raw in options["numbers"]]
        change = blacklist_add if adding else blacklist_remove
        for mobile in mobiles:
            changed = change(mobile=mobile, source=SOURCE, reason=options["reason"], actor=self.actor)
            verb = "blacklisted" if adding else "removed"
            self.stdout.write(f"{mobile.key}: {verb if changed else 'no change'}")
        blacklist_flush()  # the history and the admin show it now, not at the next beat tick

    def _list(self, limit: int) -> None:
        r = get_redis()
        total = r.scard(keys.blacklist_mobiles())
        shown = 0
        for number in r.sscan_iter(keys.blacklist_mobiles(), count=1000):
            if limit and shown >= limit:
                break
            self.stdout.write(str(number))
            shown += 1
        self.stdout.write(f"({shown} of {total} blacklisted numbers shown)")


def _parse(raw: str, *, adding: bool) -> Mobile:
    # A number listed earlier stays removable even if it would not be accepted today
    # (a landline, or a numbering plan that changed since).
    return blacklist_mobile_parse(raw) if adding else mobile_parse(raw, require_mobile=False)
