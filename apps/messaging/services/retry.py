"""An operator sends a failed notification again (the admin's "Retry" action).

The live record in Redis goes back to ``queued`` with a fresh set of attempts, the
notification goes back on the queue and the change on the notification events, in one
Lua call; the store then brings the PostgreSQL row along, as for any other change.
"""

import time

from django.db import transaction

from apps.core import keys
from apps.core.exceptions import ApplicationError
from apps.core.operator_log import Actor, operator_action_record
from apps.core.redis import run_script
from apps.core.registry import NOTIFICATION_SEND, work_wake

from ..models import Notification
from ..payloads import NotificationEvent, NotificationRecord

BODY_NOT_STORED = "body_not_stored"


def notification_retry(*, notification: Notification, actor: Actor | None = None) -> bool:
    """Queue a failed notification again; False when it is not failed (any more).

    A notification whose body held a secret (a one-time code) cannot be sent again: the
    body was never stored. That raises ApplicationError (code ``body_not_stored``); its
    client has to ask for a new code.
    """
    with transaction.atomic():
        # The row lock makes two retries of one notification take turns; the script's
        # status check then refuses the second.
        locked = Notification.objects.select_for_update().get(pk=notification.pk)
        if locked.status != Notification.Status.FAILED:
            return False
        if locked.body_redacted:
            raise ApplicationError(
                f"Notification {locked.id} cannot be re-sent: its body was a one-time code, which is "
                "never stored. The client must request a new code.",
                code=BODY_NOT_STORED,
            )
        requeued, kick = _requeue(locked)
        if requeued and actor is not None:
            _record(locked, actor)
    if kick:
        work_wake(NOTIFICATION_SEND)
    return requeued


def _requeue(notification: Notification) -> tuple[bool, bool]:
    notification_id = str(notification.id)
    requeued, _, kick = run_script(
        "messaging/lua/notification_requeue.lua",
        keys=[
            keys.notification(notification_id),
            keys.notification_queue(),
            keys.notification_events(),
            keys.notification_kick(),
        ],
        args=[
            str(notification.client_id),
            notification.channel,
            notification.seq,
            int(notification.created_at.timestamp() * 1000),
            _record_for(notification).to_json(),
            _event_for(notification).to_json(),
            keys.NOTIFICATION_TTL,
            keys.NOTIFICATION_KICK_TTL_MS,
        ],
    )
    return bool(requeued), bool(kick)


def _record_for(notification: Notification) -> NotificationRecord:
    # created_at is when it joined the queue again: the queue's lag measures waiting, and
    # a week-old notification at the head of the queue must not read as a week of lag.
    return NotificationRecord(
        id=str(notification.id),
        client_id=str(notification.client_id),
        channel=notification.channel,
        to=notification.to,
        body=notification.body,
        subject=notification.subject,
        created_at=time.time(),
    )


def _event_for(notification: Notification) -> NotificationEvent:
    """The ``queued`` change; the script sets its seq. It carries the row's fields too, as
    the first ``queued`` does, so a store that lost the row can write it again."""
    return NotificationEvent(
        id=str(notification.id),
        seq=0,
        status=Notification.Status.QUEUED.value,
        at=time.time(),
        client_id=str(notification.client_id),
        channel=notification.channel,
        to=notification.to,
        subject=notification.subject,
        body=notification.body,
        idempotency_key=notification.idempotency_key,
    )


def _record(notification: Notification, actor: Actor) -> None:
    operator_action_record(
        actor=actor,
        action="notification.retry",
        obj=notification,
        summary=f"{notification.channel} of {notification.client.name}; last error: {notification.last_error}",
        changes={
            "status": {"old": Notification.Status.FAILED.value, "new": Notification.Status.QUEUED.value},
            "attempts": {"old": notification.attempts, "new": 0},
        },
    )
