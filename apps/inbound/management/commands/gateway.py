import json
from typing import Any

from django.core.management.base import CommandParser

from apps.core.commands import OperatorCommand
from apps.inbound.services import (
    DEFAULT_GRACE_SECONDS,
    gateway_activate,
    gateway_deactivate,
    gateway_rotate,
    gateway_secrets_reencrypt,
)

from ._gateway_options import add_json_option, add_secret_option, gateway_get


class Command(OperatorCommand):
    help = (
        "Manage a gateway's credentials: rotate its secret, deactivate or activate it. "
        "Changes reach every web process within CREDENTIAL_LOCAL_CACHE_SECONDS."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        rotate = actions.add_parser("rotate", help="Give the gateway a new secret (printed once)")
        rotate.add_argument("id", help="The gateway's id")
        add_secret_option(rotate)
        rotate.add_argument(
            "--grace",
            type=float,
            default=DEFAULT_GRACE_SECONDS,
            help=f"Seconds the old secret keeps working (default {DEFAULT_GRACE_SECONDS}; 0: it stops now)",
        )
        add_json_option(rotate)
        for action, text in (
            ("deactivate", "Refuse its deliveries"),
            ("activate", "Accept its deliveries again"),
        ):
            actions.add_parser(action, help=text).add_argument("id", help="The gateway's id")
        actions.add_parser(
            "reencrypt",
            help="Re-encrypt stored secrets with the first SECRETS_ENCRYPTION_KEY (to retire old keys)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "reencrypt":
            self.stdout.write(f"Re-encrypted {gateway_secrets_reencrypt()} gateway secret(s).")
            return
        gateway = gateway_get(options["id"])
        if action == "rotate":
            self._rotate(gateway, options)
        elif action == "deactivate":
            changed = gateway_deactivate(gateway=gateway, actor=self.actor)
            self.stdout.write(f"{gateway}: {'deactivated' if changed else 'already inactive'}.")
        else:
            changed = gateway_activate(gateway=gateway, actor=self.actor)
            self.stdout.write(f"{gateway}: {'activated' if changed else 'already active'}.")

    def _rotate(self, gateway: Any, options: dict[str, Any]) -> None:
        grace = options["grace"]
        secret = gateway_rotate(
            gateway=gateway, secret=options["secret"], grace_seconds=grace, actor=self.actor
        )
        if options["json"]:
            self.stdout.write(
                json.dumps({"gateway_id": str(gateway.id), "kind": gateway.kind, "secret": secret})
            )
            return
        self.stdout.write(f"New secret of {gateway}: {secret}")
        until = f"for {grace:g} s more" if grace else "no more: it was revoked now"
        self.stdout.write(
            self.style.WARNING(f"Store it now: it is shown only once. The old secret works {until}.")
        )
