from typing import Any

from apps.core.commands import OperatorCommand
from apps.core.registry import drained_queues


class Command(OperatorCommand):
    help = "Run every drain now: judge queued SMS, then write verified numbers, monitor events and blacklist actions."

    def handle(self, *args: Any, **options: Any) -> None:
        # Each app registers its queues (apps.core.registry); judging comes first since it
        # feeds the others.
        for queue in drained_queues(for_drain=True):
            self.stdout.write(f"{queue.drained}: {queue.drain()}")
