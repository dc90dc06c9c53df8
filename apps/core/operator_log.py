"""The operator log: who changed what, from the admin or from a command.

Services that make an operator's change take an ``actor`` and call
``operator_action_record`` inside the transaction of the change, so the record and the
change commit (or roll back) together. A service called without an actor is the bridge
acting on its own (the abuse sweep, the expiry, tests, the benchmark) and records
nothing here; its own history tables still say what happened.
"""

import getpass
import os
from dataclasses import dataclass
from typing import Any

from django.db.models import Model
from django.http import HttpRequest

from .models import OperatorAction


@dataclass(frozen=True)
class Actor:
    """Who acts: ``name`` as the log shows it, ``source`` ``admin`` or ``command``."""

    name: str
    source: str

    def __post_init__(self) -> None:
        if self.source not in OperatorAction.Source.values:
            raise ValueError(f"unknown actor source {self.source!r}")


def actor_for_request(request: HttpRequest) -> Actor:
    return Actor(name=request.user.get_username(), source=OperatorAction.Source.ADMIN)


def actor_for_os() -> Actor:
    """The OS account running ``manage.py``: the nearest thing to a person a shell offers."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (some containers)
        user = f"uid-{os.getuid()}"
    return Actor(name=f"os:{user}", source=OperatorAction.Source.COMMAND)


def operator_action_record(
    *,
    actor: Actor,
    action: str,
    obj: Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_label: str = "",
    summary: str = "",
    changes: dict[str, dict[str, Any]] | None = None,
) -> OperatorAction:
    """Record one change. ``obj`` names the object; without one (a number), pass its type, id, label.

    ``changes`` maps a field to ``{"old": ..., "new": ...}`` (JSON values).
    """
    if obj is not None:
        object_type = object_type or str(obj._meta.verbose_name)
        object_id = object_id or str(obj.pk)
        object_label = object_label or str(obj)
    return OperatorAction.objects.create(
        actor=actor.name[:150],
        source=actor.source,
        action=action,
        object_type=object_type[:64],
        object_id=object_id[:64],
        object_label=object_label[:200],
        summary=summary[:255],
        changes=changes or {},
    )


def changes_between(old: dict[str, Any], new: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{"field": {"old", "new"}}`` for the fields whose value differs."""
    return {
        name: {"old": old.get(name), "new": value} for name, value in new.items() if old.get(name) != value
    }
