"""``manage.py dead_letters list|show|replay|purge``: the operator's hands on dead letters.

The admin shows them (Dashboard → Dead letters); this command also changes them. A
replay moves the oldest items back onto their queue atomically (never duplicated), for
when the cause is fixed; a purge deletes them. Both say what they are about to do and
ask first (``--yes`` skips the question, for scripts), and a replay reports progress.
"""

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import CommandError

from apps.core.commands import OperatorCommand
from apps.operations.dead_letters import (
    dead_letter_counts,
    dead_letter_item,
    dead_letter_page,
    dead_letter_queue_key,
    dead_letters_purge,
    dead_letters_replay,
)


class Command(OperatorCommand):
    help = "List, show, replay (back onto their queue, exactly once) or purge a queue's dead letters."

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{list,show,replay,purge}")
        listing = actions.add_parser("list", help="counts per queue, or QUEUE's items newest first")
        listing.add_argument("queue", nargs="?", help="a queue's short name (inbound, monitor, ...)")
        listing.add_argument("--limit", type=int, default=20, help="items to list (default 20)")
        listing.add_argument("--json", action="store_true", help="print JSON")
        show = actions.add_parser("show", help="one dead letter in full")
        show.add_argument("queue")
        show.add_argument("position", type=int, help="0 is the newest, as list numbers them")
        replay = actions.add_parser("replay", help="move dead letters back onto their queue, oldest first")
        replay.add_argument("queue")
        replay.add_argument("--limit", type=int, help="at most this many (default: all)")
        replay.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        purge = actions.add_parser("purge", help="delete a queue's dead letters")
        purge.add_argument("queue")
        purge.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _list(self, options: dict[str, Any]) -> None:
        if not options["queue"]:
            counts = dead_letter_counts()
            if options["json"]:
                self.stdout.write(json.dumps(counts))
                return
            for queue, count in counts.items():
                self.stdout.write(f"{queue:<12} {count}")
            return
        page = dead_letter_page(queue=_known(options["queue"]), per_page=max(1, options["limit"]))
        if options["json"]:
            self.stdout.write(json.dumps({"total": page.total, "items": [d.raw for d in page.items]}))
            return
        self.stdout.write(f"{page.total} dead letters in {page.key} (newest first)")
        for item in page.items:
            summary = " ".join(f"{k}={v}" for k, v in item.summary.items()) or item.raw[:100]
            self.stdout.write(f"{item.position:>5}  {summary}")

    def _show(self, options: dict[str, Any]) -> None:
        item = dead_letter_item(queue=_known(options["queue"]), position=options["position"])
        if item is None:
            raise CommandError(f"No dead letter at position {options['position']} of {options['queue']}.")
        self.stdout.write(item.pretty)

    def _replay(self, options: dict[str, Any]) -> None:
        queue, limit = _known(options["queue"]), options["limit"]
        total = dead_letter_counts()[queue]
        count = total if limit is None else min(limit, total)
        if not count:
            self.stdout.write(f"No dead letters in {queue}.")
            return
        target = dead_letter_queue_key(queue)
        if not self._confirmed(
            options, f"Move the {count} oldest of {total} dead letters of {queue} back onto {target}?"
        ):
            return
        moved = 0
        for moved in dead_letters_replay(queue=queue, limit=count):
            self.stdout.write(f"  {moved}/{count} moved back")
        self.stdout.write(
            f"{moved} dead letters of {queue} moved back onto {target}; its drain takes them next."
        )

    def _purge(self, options: dict[str, Any]) -> None:
        queue = _known(options["queue"])
        count = dead_letter_counts()[queue]
        if not count:
            self.stdout.write(f"No dead letters in {queue}.")
            return
        if not self._confirmed(options, f"Delete the {count} dead letters of {queue} for good?"):
            return
        deleted = dead_letters_purge(queue=queue, count=count)
        self.stdout.write(f"{deleted} dead letters of {queue} deleted.")

    def _confirmed(self, options: dict[str, Any], question: str) -> bool:
        if options["yes"]:
            return True
        if input(f"{question} [y/N] ").strip().lower() in {"y", "yes"}:
            return True
        self.stdout.write("Nothing changed.")
        return False


def _known(queue: str) -> str:
    dead_letter_queue_key(queue)  # ApplicationError (one error: line) for an unknown name
    return queue
