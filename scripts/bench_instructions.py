"""Instructions per request of each endpoint, counted by Valgrind's callgrind.

On a shared virtual machine req/s and even CPU time per request move by tens of percent
from one minute to the next, so an A/B of a hot-path change drowns in that noise. The
number of instructions a request executes does not: it is the same from run to run to
within a fraction of a percent. This calls the WSGI application in one process (no
server, no network; Redis and PostgreSQL real, as the bench sets them up), counts only
the requests themselves (instrumentation is switched on around them with
callgrind_control), and reports instructions per request for every endpoint the bench
drives. It measures the application's own work, not the server's or the kernel's, and
not the Celery task a request queues to wake a worker (at most five a second whatever
the load, so a share of a request that depends only on the rate).

``scripts/bench.py --only instructions`` runs it (``scripts/ensure_valgrind.sh``
installs Debian's valgrind when it is missing); it writes ``bench/instructions.json``.
About two minutes: the requests run some fifty times slower under callgrind.
"""

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import scripts.bench as bench  # noqa: E402 - after the path: the bench's setup and requests

WARM = 50  # requests before counting: imports, connections, caches
COUNTED = int(os.environ.get("BENCH_INSTRUCTIONS_REQUESTS", "200"))
OUT = ROOT / "var" / "bench"
RESULTS = ROOT / "bench" / "instructions.json"
UNDER_CALLGRIND = "BENCH_UNDER_CALLGRIND"


def main() -> int:
    if os.environ.get(UNDER_CALLGRIND) != "1":
        return _under_callgrind()
    creds = bench.setup()
    bench.otp_setup(creds)  # codes for the request numbers below, the limits lifted
    bench.django_setup()
    from django.core.handlers.wsgi import WSGIHandler

    app = WSGIHandler()
    _status_prime(app, creds)
    numbers = bench.request_numbers(WARM + COUNTED)
    counts = {kind: _count(app, kind, creds, numbers) for kind in ("live", *bench.HTTP_KINDS)}
    report = {
        "requests_counted": COUNTED,
        "instructions_per_request": counts,
        "over_live": {kind: count - counts["live"] for kind, count in counts.items() if kind != "live"},
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    for kind, count in counts.items():
        print(f"{kind:>12}: {count:>10,} instructions per request")
    return 0


def _under_callgrind() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("callgrind.*"):
        old.unlink()
    command = [
        "valgrind", "--tool=callgrind", "--instr-atstart=no",
        f"--callgrind-out-file={OUT}/callgrind.%p", sys.executable, __file__,
    ]  # fmt: skip
    done = subprocess.run(command, env={**os.environ, UNDER_CALLGRIND: "1"}, stderr=subprocess.DEVNULL)
    return done.returncode


def _count(app: Any, kind: str, creds: dict[str, str], numbers: list[int]) -> int:
    environs = [_environ(kind, n, creds) for n in numbers]
    for environ in environs[:WARM]:
        _call(app, environ)
    _no_wakes()
    _callgrind("-z")  # zero what the warm-up counted
    _callgrind("-i", "on")
    for environ in environs[WARM:]:
        _call(app, environ)
    _callgrind("-d")
    _callgrind("-i", "off")
    dump = max(OUT.glob(f"callgrind.{os.getpid()}*"), key=lambda p: p.stat().st_mtime)
    total = next(int(line.split()[1]) for line in dump.open() if line.startswith(("totals:", "summary:")))
    return round(total / COUNTED)


def _no_wakes() -> None:
    """Hold the marks that let a request wake the validation and send workers: a request
    queues a Celery task at most every 200 ms of wall time (a million instructions each),
    and under callgrind's slowdown that would be every few requests instead of one in
    hundreds, and vary with the machine's speed."""
    from apps.core import keys
    from apps.core.redis import get_redis

    for key in (keys.sms_inbound_kick(), keys.notification_kick()):
        get_redis().set(key, "1", px=600_000)


def _callgrind(*args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(os.getpid())], check=True, capture_output=True)


def _environ(kind: str, n: int, creds: dict[str, str]) -> dict[str, Any]:
    method, target, body, headers = bench.request_for(kind, n, {**creds, "port": "80"})
    path, _, query = target.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr, "CONTENT_LENGTH": str(len(body or b"")),
        "wsgi.input": io.BytesIO(body or b""),
    }  # fmt: skip
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    return environ


def _call(app: Any, environ: dict[str, Any]) -> None:
    status: list[str] = []
    b"".join(app(environ, lambda s, headers, exc_info=None: status.append(s)))
    if not status[0].startswith("2"):
        raise SystemExit(f"bench_instructions: {environ['PATH_INFO']} answered {status[0]}")


def _status_prime(app: Any, creds: dict[str, str]) -> None:
    """Register the numbers GET /onboard/status asks about, as the bench's status_prime does."""
    for n in range(bench.STATUS_NUMBERS):
        environ = _environ("register", 0, creds)
        environ["PATH_INFO"] = f"/onboard/register/7{n + 100_000_000}"
        _call(app, environ)


if __name__ == "__main__":
    sys.exit(main())
