from typing import Any

from apps.abuse.services import blacklist_flush
from apps.audit.services import monitor_flush
from apps.core.commands import OperatorCommand
from apps.onboarding.services.pipeline import sms_validate_pending
from apps.onboarding.services.verified import out_sms_flush


class Command(OperatorCommand):
    help = "Run every drain now: judge queued SMS, then write verified numbers, monitor events and blacklist actions."

    def handle(self, *args: Any, **options: Any) -> None:
        steps = [
            ("inbound SMS judged", sms_validate_pending),
            ("verified numbers stored", out_sms_flush),
            ("monitor events stored", monitor_flush),
            ("blacklist actions stored", blacklist_flush),
        ]
        for label, drain in steps:
            self.stdout.write(f"{label}: {drain()}")
