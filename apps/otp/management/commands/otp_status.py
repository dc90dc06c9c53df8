import json
from typing import Any

from django.core.management.base import CommandParser

from apps.clients.selectors import client_get
from apps.core.commands import OperatorCommand
from apps.core.phone import mobile_parse

from ...selectors import OtpSupportView, otp_support_view


class Command(OperatorCommand):
    help = (
        "Where a client's one-time code for a number stands, for support staff: active or not, "
        "time left, failed attempts, blocks. Never prints the code (the bridge does not know it)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("mobile", help="The number, in any format: 9876543210, +91 98765 43210")
        parser.add_argument("--client", required=True, help="The client's id")
        parser.add_argument("--json", action="store_true", help="Print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        client = client_get(client_id=options["client"])
        mobile = mobile_parse(options["mobile"])
        view = otp_support_view(client_id=str(client.id), mobile=mobile)
        if options["json"]:
            self.stdout.write(json.dumps(_as_dict(view)))
            return
        for label, value in _lines(view, client_name=client.name):
            self.stdout.write(f"{label:<22}{value}")


def _as_dict(view: OtpSupportView) -> dict[str, Any]:
    status = view.status
    return {
        "mobile_number": status.mobile.key,
        "active": status.active,
        "expires_in_seconds": status.expires_in_seconds,
        "attempts_left": status.attempts_left,
        "failed_attempts": status.failed_attempts,
        "blocked_for_seconds": status.blocked_for_seconds,
        "prefix": view.prefix,
        "prefix_blocked_for_seconds": view.prefix_blocked_for_seconds,
        "safe_listed": view.safe_listed,
        "blacklisted": view.blacklisted,
    }


def _lines(view: OtpSupportView, *, client_name: str) -> list[tuple[str, str]]:
    status = view.status
    active = f"yes, {status.expires_in_seconds} s left" if status.active else "no"
    blocked = f"yes, {status.blocked_for_seconds} s left" if status.blocked_for_seconds else "no"
    prefix = f"+{view.prefix}" + (
        f" (blocked, {view.prefix_blocked_for_seconds} s left)" if view.prefix_blocked_for_seconds else ""
    )
    return [
        ("number", status.mobile.key),
        ("client", client_name),
        ("code active", active),
        ("failed attempts", f"{status.failed_attempts} ({status.attempts_left} left)"),
        ("blocked", blocked),
        ("prefix", prefix),
        ("safe-listed", "yes" if view.safe_listed else "no"),
        ("blacklisted", "yes" if view.blacklisted else "no"),
    ]
