"""What the ground floor reaches on every feature app, declared by the apps themselves.

``apps.core`` imports no feature app, yet some of its jobs span them all: the repair
rebuilds every Redis set and credential mirror from PostgreSQL, the operator views
report and drain every queue, and a web request wakes work that another app runs. Each
app declares its part here from its ``AppConfig.ready()``; core and the operations floor
iterate these lists and never name an app. Django runs every ready() before the first
request, task or command, and declaring the same name again replaces the entry, so a
second ready() adds nothing twice.
"""

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from celery import Task
from celery.contrib.django.task import DjangoTask
from django.db.models import Model
from kombu.exceptions import OperationalError

from .directory import RedisDirectory

logger = logging.getLogger(__name__)

REBUILD_CHUNK = 10_000  # rows per database fetch and members per SADD while rebuilding a set


# --- Redis sets the database can rebuild -----------------------------------------------------
@dataclass(frozen=True)
class RebuiltSet:
    """A hot-path SET whose members PostgreSQL holds too: the repair adds them back."""

    name: str  # the repair report's field: ``verified``
    label: str  # its progress line: "verified numbers"
    key: Callable[[], str]
    members: Callable[[], Iterator[str]]  # streamed from the database
    metric: str  # the gauge of its size on /metrics
    metric_help: str


_SETS: dict[str, RebuiltSet] = {}


def redis_set_register(spec: RebuiltSet) -> None:
    _SETS[spec.name] = spec


def redis_sets() -> list[RebuiltSet]:
    return list(_SETS.values())


def column(model: type[Model], field_name: str) -> Callable[[], Iterator[str]]:
    """The values of one column, streamed in chunks: the members of a rebuilt set."""

    def read() -> Iterator[str]:
        rows = model._default_manager.order_by().values_list(field_name, flat=True)
        return rows.iterator(chunk_size=REBUILD_CHUNK)

    return read


# --- credential mirrors ----------------------------------------------------------------------
_MIRRORS: dict[str, RedisDirectory[Any]] = {}


def mirror_register(name: str, directory: RedisDirectory[Any]) -> None:
    """A Redis HASH mirror of credentials (apps.core.directory): the repair rebuilds it."""
    _MIRRORS[name] = directory


def mirrors() -> list[RedisDirectory[Any]]:
    return list(_MIRRORS.values())


# --- queues ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class DrainedQueue:
    """A Redis LIST a drain empties in reliable batches (apps.core.queues), dead letters aside."""

    name: str  # short name: bridge_status rows, metric labels, /admin/dead-letters/<name>/
    key: Callable[[], str]
    drain: Callable[[], int]  # drains it now; returns the items handled
    drained: str  # flush_queues' line for the count: "monitor events stored"
    # Reports list the queues in one order (where an SMS goes in first); flush_queues
    # drains them in another: judging first, since it feeds the other queues.
    report_order: int
    drain_order: int


_QUEUES: dict[str, DrainedQueue] = {}


def queue_register(spec: DrainedQueue) -> None:
    _QUEUES[spec.name] = spec


def drained_queues(*, for_drain: bool = False) -> list[DrainedQueue]:
    """Every queue, in report order (or in drain order)."""
    return sorted(_QUEUES.values(), key=lambda q: q.drain_order if for_drain else q.report_order)


# --- gauges read from the database -----------------------------------------------------------
@dataclass(frozen=True)
class DatabaseGauge:
    """A /metrics gauge an app reads from PostgreSQL: reported even while Redis is away,
    when it matters most (the inbound outbox fills exactly then)."""

    name: str
    help: str
    value: Callable[[], float]


_GAUGES: dict[str, DatabaseGauge] = {}


def database_gauge_register(spec: DatabaseGauge) -> None:
    _GAUGES[spec.name] = spec


def database_gauges() -> list[DatabaseGauge]:
    return list(_GAUGES.values())


# --- dashboard panels ------------------------------------------------------------------------
@dataclass(frozen=True)
class Panel:
    """A panel a feature adds to the dashboard: a template (name or Template) rendered with ``panel``."""

    title: str
    template: Any
    context: dict[str, Any] = field(default_factory=dict)


PanelSource = Callable[[], Panel | None]
_PANEL_SOURCES: list[PanelSource] = []


def dashboard_panel_register(source: PanelSource) -> None:
    """Show ``source()``'s panel on the dashboard (None: nothing this time). Call it from
    the feature's AppConfig.ready(); the page renders the panels after its own, in order."""
    if source not in _PANEL_SOURCES:
        _PANEL_SOURCES.append(source)


def dashboard_panel_unregister(source: PanelSource) -> None:
    if source in _PANEL_SOURCES:
        _PANEL_SOURCES.remove(source)


def dashboard_panels() -> list[Panel]:
    return [panel for source in _PANEL_SOURCES if (panel := source()) is not None]


# --- work one app queues and another runs ----------------------------------------------------
# The names are the contract between the app that wakes the work and the app whose task
# does it; services queue through them too, so no service imports a tasks module.
SMS_VALIDATE = "sms_validate"  # a delivery queued an SMS: judge it now (onboarding)
REDIS_REPAIR = "redis_repair"  # a request found Redis without its data (onboarding's task)
CALLBACK_DELIVER = "callback_deliver"  # one callback attempt, by delivery id (clients)
NOTIFICATION_SEND = "notification_send"  # a notification was queued: send now (messaging)

_WORK: dict[str, Task[Any, Any]] = {}


def work_register(name: str, task: Task[Any, Any]) -> None:
    _WORK[name] = task


def work_wake(name: str) -> None:
    """Queue ``name`` now from a web request without waiting on a missing broker: the
    periodic task beat sends covers a miss."""
    task = _work(name)
    try:
        task.apply_async(retry=False)
    except OperationalError as exc:
        logger.warning("could not queue %s, beat will run it: %s", task.name, exc)


def work_queue_on_commit(name: str, *args: Any) -> None:
    """Queue ``name`` with ``args`` once the surrounding transaction commits (at once outside one)."""
    # Celery's Django fixup makes every task of this project a DjangoTask.
    cast(DjangoTask[Any, Any], _work(name)).delay_on_commit(*args)


def _work(name: str) -> Task[Any, Any]:
    try:
        return _WORK[name]
    except KeyError:
        raise LookupError(f"no task registered for {name!r}: is its app in INSTALLED_APPS?") from None
