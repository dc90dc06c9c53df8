"""Beat's ticks run on the "housekeeping" queue, whose pool sends no task events, so
Flower lists the work triggered by SMS and callbacks, not a dozen timer tasks a minute."""

import time

import celeryconfig
from apps.core import keys
from smsbridge.celery import app
from tests.core.test_logging import housekeeping_pool
from tests.events import task_events
from tests.processes import CeleryProcess, cluster, wait_until

VALIDATE = "apps.onboarding.tasks.sms_validate_task"


def test_every_beat_entry_goes_to_the_housekeeping_queue_and_expires():
    for name, entry in celeryconfig.beat_schedule.items():
        assert entry["options"]["queue"] == "housekeeping", name
        assert entry["options"]["expires"] >= 1, name
    assert {q.name for q in celeryconfig.task_queues} == {"celery", "callbacks", "housekeeping"}
    # The same task queued by real work keeps its own route.
    assert app.amqp.router.route({}, VALIDATE)["queue"].name == "celery"


def main_pool(c) -> CeleryProcess:
    args = ["worker", "--loglevel", "INFO", "-c", "1", "-Q", "celery", "-O", "fair", "--hostname", "main@%h"]
    proc = CeleryProcess(args, c.env, c.workdir / "main.log")
    proc.start()
    c.workers.append(proc)
    return proc


def test_the_housekeeping_pool_and_beat_send_no_task_events_while_real_work_does(database_url):
    with cluster(database_url) as c:
        r = c.data()
        r.set(keys.redis_ready(), time.time())
        broker = c.redis.url(1)
        with task_events(broker_url=broker) as events:
            housekeeping_pool(c)
            main_pool(c)
            c.beat()
            wait_until(lambda: int(r.get(keys.heartbeat_runs()) or 0) >= 5, 60, "ticks\n" + c.logs())

            assert events.of_type("task-") == [], "ticks showed up as tasks"
            online = {e["hostname"] for e in events.of_type("worker-heartbeat")}
            assert any(host.startswith("housekeeping@") for host in online), online  # Flower lists the pool

            with app.connection_for_write(url=broker) as connection:
                kicked = app.send_task(VALIDATE, queue="celery", connection=connection)
            wait_until(
                lambda: events.outcomes([kicked.id]) == ["task-succeeded"], 30, "the kick\n" + c.logs()
            )
        worker_side = [e for e in events.of_type("task-") if e["type"] != "task-sent"]  # sent: by this test
        assert {e["uuid"] for e in worker_side} == {kicked.id}
        assert {e["hostname"].partition("@")[0] for e in worker_side} == {"main"}
