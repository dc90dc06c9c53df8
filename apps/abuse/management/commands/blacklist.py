from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.abuse.services import blacklist_add, blacklist_flush, blacklist_remove
from apps.core import keys
from apps.core.exceptions import ApplicationError
from apps.core.phone import mobile_parse
from apps.core.redis import get_redis


class Command(BaseCommand):
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
        change = blacklist_add if options["action"] == "add" else blacklist_remove
        for raw in options["numbers"]:
            try:
                mobile = mobile_parse(raw, require_mobile=False)
            except ApplicationError as exc:
                raise CommandError(exc.detail) from exc
            changed = change(mobile=mobile, source="command", reason=options["reason"], actor="manage.py")
            verb = "blacklisted" if options["action"] == "add" else "removed"
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
