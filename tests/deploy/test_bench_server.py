"""make bench measures the web server deploy/ runs: the same worker class, workers and threads."""

import re
from pathlib import Path

from tests.deploy.helpers import procfile_commands

ROOT = Path(__file__).resolve().parents[2]


def bench_default(name: str) -> str:
    source = (ROOT / "scripts" / "bench.py").read_text()
    match = re.search(rf'os\.environ\.get\("{name}", "(\d+)"\)', source)
    assert match, f"scripts/bench.py should read {name} with a default"
    return match.group(1)


def test_the_bench_runs_gunicorn_with_the_workers_and_threads_of_the_procfile() -> None:
    web = procfile_commands(ROOT / "deploy" / "Procfile")["web"].shell or ""

    assert f"--workers ${{WEB_CONCURRENCY:-{bench_default('BENCH_WEB_WORKERS')}}}" in web
    assert f"--threads {bench_default('BENCH_WEB_THREADS')}" in web
    assert "--config python:smsbridge.gunicorn_conf" in web
