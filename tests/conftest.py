"""Shared fixtures: real Redis (the suite's own DB indexes), real PostgreSQL, real Celery.

Every test starts with empty data and cache Redis databases. Tests that need
background work use the session's Celery worker and beat processes, which run against
the same test database and Redis indexes (settings_test.py).
"""

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from rest_framework.test import APIClient

from apps.clients.services import client_create
from apps.core import keys
from apps.core.redis import breakers_reset, get_redis
from apps.core.registry import mirrors
from apps.core.system_settings import system_settings_get, system_settings_invalidate
from apps.inbound.services import gateway_create
from tests.helpers import GatewayCreds

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_REDIS_DBS = {0, 1, 2, 3}


def _db_index(url: str) -> int:
    return redis.connection.parse_url(url).get("db", 0)


def pytest_configure(config: Any) -> None:
    urls = [
        settings.REDIS_URL,
        settings.CELERY_BROKER_URL,
        settings.CELERY_RESULT_BACKEND,
        settings.CACHE_URL,
    ]
    used = {_db_index(u) for u in urls if "127.0.0.1:6379" in u or "localhost:6379" in u}
    if used & PRODUCTION_REDIS_DBS:
        raise pytest.UsageError(
            f"The test suite must not use Redis DBs {sorted(PRODUCTION_REDIS_DBS)}: {urls}"
        )
    sys.addaudithook(_refuse_process_starts_in_fast_tests)


# --- the slow tier -----------------------------------------------------------------------
# `make test-fast` runs -m "not slow": no test there may start a Celery worker, beat, Flower,
# gunicorn or a private redis-server. Each such test says `slow` in its own module (the tier
# shows where the test is read); these two checks stop an unmarked one instead of marking it
# quietly, which would move a new test to the other tier without its author knowing.
PROCESS_FIXTURES = {"celery_processes", "celery_worker", "database_url"}
SESSION_WORKER_FIXTURES = {"celery_processes", "celery_worker"}
PROCESS_PROGRAMS = {"celery", "gunicorn", "redis-server", "honcho"}
_fast_test_running: list[str] = []  # the node id of the running test when it is not slow


@pytest.hookimpl(trylast=True)  # after pytest-django's reordering, which the sort below keeps
def pytest_collection_modifyitems(config: Any, items: list[pytest.Item]) -> None:
    """Fail collection when a test uses a real-process fixture without the slow marker;
    run the tests of the session's Celery worker last."""
    unmarked = [
        item.nodeid
        for item in items
        if PROCESS_FIXTURES & set(getattr(item, "fixturenames", ())) and not item.get_closest_marker("slow")
    ]
    if unmarked:
        raise pytest.UsageError(
            f"{len(unmarked)} tests use {', '.join(sorted(PROCESS_FIXTURES))} (real processes) but are "
            "not marked slow; add `pytestmark = pytest.mark.slow` or @pytest.mark.slow:\n  "
            + "\n  ".join(unmarked)
        )
    # The session's Celery worker and beat live from the first test that starts them to the
    # end of the run, draining every queue of the suite's Redis: an in-process test after
    # them would race the worker for its own queued SMS or notifications. Stable: otherwise
    # the usual order.
    items.sort(key=lambda item: bool(SESSION_WORKER_FIXTURES & set(getattr(item, "fixturenames", ()))))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    if not item.get_closest_marker("slow"):
        _fast_test_running.append(item.nodeid)
    try:
        return (yield)
    finally:
        _fast_test_running.clear()


def _refuse_process_starts_in_fast_tests(event: str, args: tuple[Any, ...]) -> None:
    """An audit hook: a test not marked slow that starts one of PROCESS_PROGRAMS fails at once."""
    if event != "subprocess.Popen" or not _fast_test_running:
        return
    argv = args[1]
    words = [argv] if isinstance(argv, str | bytes | os.PathLike) else list(argv)
    if {Path(os.fsdecode(word)).name for word in words} & PROCESS_PROGRAMS:
        raise RuntimeError(
            f"{_fast_test_running[0]} starts {argv!r} but is not marked slow (make test-fast must "
            "start no real processes): add @pytest.mark.slow"
        )


@pytest.fixture(autouse=True)
def clean_redis() -> Iterator[None]:
    """Empty hot-path data and cache before each test (never the broker: workers live there)."""
    get_redis("data").flushdb()
    get_redis("cache").flushdb()
    get_redis("data").set(keys.redis_ready(), time.time())  # a warmed Redis, as in service
    _forget_local_caches()
    yield
    _forget_local_caches()


def _forget_local_caches() -> None:
    breakers_reset()  # a test that stopped Redis leaves no open breaker to the next
    system_settings_invalidate()
    for directory in mirrors():  # every credential mirror an app registered
        directory.forget_local()


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@dataclass
class ClientCreds:
    id: str
    api_key: str
    webhook_secret: str

    @property
    def auth(self) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.api_key}"}


@pytest.fixture
def make_client(db: None, django_capture_on_commit_callbacks: Any) -> Any:
    def make(name: str = "Acme", webhook_url: str = "") -> ClientCreds:
        with django_capture_on_commit_callbacks(execute=True):
            client, key = client_create(name=name, webhook_url=webhook_url)
        return ClientCreds(id=str(client.id), api_key=key, webhook_secret=client.webhook_secret)

    return make


@pytest.fixture
def client_creds(make_client: Any) -> ClientCreds:
    return make_client()


@pytest.fixture
def make_gateway(db: None, django_capture_on_commit_callbacks: Any) -> Any:
    """Make a gateway: GatewayCreds (id, kind, name, its plain secret, the model)."""

    def make(kind: str, secret: str | None = None, **scope: Any) -> GatewayCreds:
        with django_capture_on_commit_callbacks(execute=True):
            gateway, plain = gateway_create(kind=kind, name=f"{kind} gateway", secret=secret, **scope)
        return GatewayCreds(model=gateway, secret=plain)

    return make


@pytest.fixture
def warm_hot_path() -> Any:
    """Load settings and credentials into the caches, as a running server has them."""

    def warm() -> None:
        system_settings_get()

    return warm


# --- real Celery processes -------------------------------------------------------------
def _celery_env() -> dict[str, str]:
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="smsbridge.settings_test",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        PYTHONUNBUFFERED="1",
    )
    return env


def _start(args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen:
    handle = log.open("w")
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "smsbridge", *args],
        cwd=ROOT,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop(proc: subprocess.Popen) -> None:
    """Stop a process this suite started, by its own pid (never by name)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@dataclass
class CeleryProcesses:
    worker: subprocess.Popen
    beat: subprocess.Popen
    logdir: Path

    def logs(self) -> str:
        return "\n".join(p.read_text()[-4000:] for p in sorted(self.logdir.glob("*.log")))


@pytest.fixture(scope="session")
def celery_processes(django_db_setup: None, django_db_blocker: Any) -> Iterator[CeleryProcesses]:
    from smsbridge.celery import app

    logdir = Path(tempfile.mkdtemp(prefix="smsbridge-celery-"))
    env = _celery_env()
    for role in ("broker", "data", "cache"):  # nothing left over from an earlier run
        get_redis(role).flushdb()
    worker = _start(
        [
            *(
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
                "-O",
                "fair",
                "--without-gossip",
                "--without-mingle",
                "--hostname",
                "test@%h",
            ),
            *("-Q", "celery,callbacks,housekeeping"),  # every queue, as production's pools do between them
        ],
        logdir / "worker.log",
        env,
    )
    beat = _start(["beat", "--loglevel", "INFO"], logdir / "beat.log", env)
    procs = CeleryProcesses(worker, beat, logdir)
    deadline = time.monotonic() + 60
    while not app.control.ping(timeout=0.5):
        if time.monotonic() > deadline or worker.poll() is not None:
            _stop(worker)
            _stop(beat)
            pytest.fail(f"Celery worker did not start:\n{procs.logs()}")
    yield procs
    _stop(beat)
    _stop(worker)


@pytest.fixture
def celery_worker(celery_processes: CeleryProcesses, transactional_db: None) -> CeleryProcesses:
    """A running worker and beat; the test's data is committed so they can see it."""
    assert celery_processes.worker.poll() is None, celery_processes.logs()
    return celery_processes


@pytest.fixture
def database_url(transactional_db: None) -> str:
    """The test database's URL, for processes a test starts itself (committed data only)."""
    return _celery_env()["DATABASE_URL"]
