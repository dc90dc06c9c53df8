"""Beat's ticks run on the "housekeeping" queue, whose pool sends no task events, so
Flower lists the work triggered by SMS and callbacks, not a dozen timer tasks a minute."""

import time

import pytest
import requests
from celery import Celery

import celeryconfig
from apps.core import keys
from smsbridge.celery import app
from tests.core.test_logging import housekeeping_pool
from tests.events import task_events
from tests.polling import wait_for
from tests.processes import CeleryProcess, cluster, free_port

VALIDATE = "apps.onboarding.tasks.sms_validate_task"


def test_every_beat_entry_goes_to_the_housekeeping_queue_and_expires():
    for name, entry in celeryconfig.beat_schedule.items():
        assert entry["options"]["queue"] == "housekeeping", name
        assert entry["options"]["expires"] >= 1, name
    assert {q.name for q in celeryconfig.task_queues} == {"celery", "callbacks", "housekeeping"}
    # The same task queued by real work keeps its own route.
    assert app.amqp.router.route({}, VALIDATE)["queue"].name == "celery"


def main_pool(c) -> CeleryProcess:
    args = [
        "worker",
        "--loglevel",
        "INFO",
        "-c",
        "1",
        "-Q",
        "celery",
        "-O",
        "fair",
        "--without-gossip",
        "--without-mingle",
        "--hostname",
        "main@%h",
    ]
    proc = CeleryProcess(args, c.env, c.workdir / "main.log")
    proc.start()
    c.workers.append(proc)
    return proc


@pytest.mark.slow
def test_the_housekeeping_pool_and_beat_send_no_task_events_while_real_work_does(database_url):
    with cluster(database_url) as c:
        r = c.data()
        r.set(keys.redis_ready(), time.time())
        broker = c.redis.url(1)
        with task_events(broker_url=broker) as events:
            housekeeping_pool(c)
            main_pool(c)
            c.beat()
            wait_for(
                lambda: int(r.get(keys.heartbeat_runs()) or 0) >= 5,
                timeout=60,
                message=lambda: "ticks\n" + c.logs(),
            )

            assert events.of_type("task-") == [], "ticks showed up as tasks"
            online = {e["hostname"] for e in events.of_type("worker-heartbeat")}
            assert any(host.startswith("housekeeping@") for host in online), online  # Flower lists the pool

            with app.connection_for_write(url=broker) as connection:
                kicked = app.send_task(VALIDATE, queue="celery", connection=connection)
            wait_for(
                lambda: events.outcomes([kicked.id]) == ["task-succeeded"],
                timeout=30,
                message=lambda: "the kick\n" + c.logs(),
            )
        worker_side = [e for e in events.of_type("task-") if e["type"] != "task-sent"]  # sent: by this test
        assert {e["uuid"] for e in worker_side} == {kicked.id}
        assert {e["hostname"].partition("@")[0] for e in worker_side} == {"main"}


FLOWER_AUTH = "ops:a-long-enough-password-for-flower"


def flower(c) -> tuple[CeleryProcess, str]:
    port = free_port()
    args = [
        "flower",
        "--conf=./flowerconfig.py",
        f"--port={port}",
        "--address=127.0.0.1",
        f"--basic-auth={FLOWER_AUTH}",
    ]
    proc = CeleryProcess(args, c.env, c.workdir / "flower.log")
    proc.start()
    c.workers.append(proc)
    return proc, f"http://127.0.0.1:{port}"


def flower_get(base: str, path: str) -> object:
    user, _, password = FLOWER_AUTH.partition(":")
    return requests.get(base + path, auth=(user, password), timeout=5).json()


def flower_answers(base: str) -> bool:
    try:
        return isinstance(flower_get(base, "/api/workers"), dict)
    except (requests.RequestException, ValueError):
        return False


@pytest.mark.slow
def test_flowers_task_list_shows_the_kicked_work_and_no_tick_even_after_it_enables_events(database_url):
    with cluster(database_url) as c:
        r = c.data()
        r.set(keys.redis_ready(), time.time())
        remote = cluster_app(c)
        _, base = flower(c)
        housekeeping_pool(c)
        main_pool(c)
        wait_for(
            lambda: flower_answers(base) and len(remote.control.ping(timeout=1) or []) == 2,
            timeout=60,
            message=c.logs,
        )
        # What Flower sends every few seconds; the housekeeping pool declines.
        replies = remote.control.broadcast("enable_events", reply=True, timeout=2) or []
        c.beat()
        runs = int(r.get(keys.heartbeat_runs()) or 0)
        wait_for(
            lambda: int(r.get(keys.heartbeat_runs()) or 0) >= runs + 5,
            timeout=60,
            message=lambda: "ticks\n" + c.logs(),
        )
        kicked = remote.send_task(VALIDATE, queue="celery")
        wait_for(
            lambda: kicked.id in flower_tasks(base),
            timeout=30,
            message=lambda: "the kick in Flower\n" + c.logs(),
        )

        tasks = flower_tasks(base)
        workers = flower_get(base, "/api/workers?refresh=1")

    answers = {host.partition("@")[0]: answer for reply in replies for host, answer in reply.items()}
    assert answers["housekeeping"] == {"ok": "task events stay off in the housekeeping pool"}
    assert set(tasks) == {kicked.id}, sorted(t["name"] for t in tasks.values())
    assert isinstance(workers, dict) and any(name.startswith("housekeeping@") for name in workers)


def cluster_app(c) -> Celery:
    """A Celery app that talks to this cluster's broker (the project's app talks to the suite's).

    Read and write URLs are set apart: Celery prefers CELERY_BROKER_URL from the
    environment, which points at the suite's broker, to a plain broker URL. It never
    becomes the current app, which shared tasks (``task.delay()``) would then use.
    """
    url = c.redis.url(1)
    remote = Celery("cluster-probe", broker=url, set_as_current=False)
    remote.conf.update(broker_read_url=url, broker_write_url=url, accept_content=["json"])
    return remote


def flower_tasks(base: str) -> dict:
    tasks = flower_get(base, "/api/tasks")
    assert isinstance(tasks, dict), tasks
    return tasks
