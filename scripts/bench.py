"""make bench: throughput of the hot path, measured as ratios in one run on this machine.

Starts the production web server (gunicorn, as deploy/ starts it) against a bench
database and Redis DB indexes of its own, drives it over loopback with wrk
(scripts/bench_wrk.py), and compares each endpoint with GET /health/live on the same
server in the same run, three times, keeping the median ratio (so the ratios, not the
absolute numbers, are what to compare across machines). Then the end to end rate with a
real Celery worker, and the background work. Results go to bench/results.json, each run
is appended to bench/history.jsonl and drawn in bench/results.png (scripts/bench_plot.py),
and docs/benchmark.md's figures are written from it (scripts/bench_report.py).
``--quick`` runs everything shorter and smaller, in under a minute.
"""

import functools
import http.client
import json
import math
import multiprocessing as mp
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # scripts.bench_phone_verify, and the apps once Django is set up
PORT = int(os.environ.get("BENCH_PORT", "8765"))
QUICK = "--quick" in sys.argv[1:]
# --only flush,sweep: those parts alone, printed and written nowhere (a check while changing
# them; the full run's results come from the full run only). Names: see main_only.
ONLY = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--only=")), "")
ONLY = ONLY or next((b for a, b in zip(sys.argv[1:], sys.argv[2:], strict=False) if a == "--only"), "")
# A quick run is a check, not a figure to publish: it keeps bench/results.json as it is.
RESULTS = ROOT / "bench" / ("results-quick.json" if QUICK else "results.json")
DURATION = float(os.environ.get("BENCH_SECONDS", "1" if QUICK else "5"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
# Each endpoint against /health/live, three times: the median ratio is kept (one in --quick).
ROUNDS = 1 if QUICK else 3
HISTORY = ROOT / "bench" / ("history-quick.jsonl" if QUICK else "history.jsonl")
# The production web server as deploy/ runs it (Procfile, systemd, compose, k8s): gthread
# workers with threads, chosen by measurement on this machine (docs/benchmark.md).
WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "4"))
WEB_THREADS = int(os.environ.get("BENCH_WEB_THREADS", "4"))
LOADERS = 2  # client processes; each runs CONNECTIONS // LOADERS threads
# The Redis server the bench flushes DBs 5-8 of: another one keeps a busy machine's
# DBs (a test run, a make run) out of harm's way.
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379").rstrip("/")

BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "smsbridge.settings",
    "DJANGO_DEBUG": "0",
    # Debug off, as in production: so a key long enough for the start check, and a
    # Fernet key for the secrets at rest. Both exist only for the bench database.
    "DJANGO_SECRET_KEY": "bench-run-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGH",
    "SECRETS_ENCRYPTION_KEY": "YmVuY2gtcnVuLW9ubHktZmVybmV0LWtleS0wMTIzNDU=",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/smsbridge_bench"),
    "REDIS_URL": f"{REDIS}/5",
    "CELERY_BROKER_URL": f"{REDIS}/6",
    "CELERY_RESULT_BACKEND": f"{REDIS}/7",
    "CACHE_URL": f"{REDIS}/8",
    "LOG_LEVEL": "WARNING",
    # Loading and flushing a million keys takes longer than the hot path's 0.5 s budget.
    "REDIS_SOCKET_TIMEOUT": "30",
}


def manage(*args: str) -> str:
    env = {**os.environ, **BENCH_ENV}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout


def setup() -> dict[str, str]:
    """Migrate, reset Redis, and make the client and gateways through the operator commands,
    in one process: seven manage.py starts took 20 s of a one-minute --quick run."""
    now = datetime.now(UTC).isoformat()
    # Client names are unique: each run brings its own client to the bench database.
    made = json.loads(manage("shell", "-c", BENCH_SETUP + BENCH_CREATE.format(now=now)).splitlines()[-1])
    creds = {
        "api_key": made["client"]["api_key"],
        "gateway_token": made["native"]["secret"],
        "client_id": made["client"]["client_id"],
    }
    for kind in ("android", "twilio", "jasmin"):
        creds[f"{kind}_id"], creds[f"{kind}_secret"] = made[kind]["gateway_id"], made[kind]["secret"]
    return creds


BENCH_CREATE = """
import io, json
from django.core.management import call_command
def created(*args):
    out = io.StringIO()
    call_command(*args, "--json", stdout=out)
    return json.loads(out.getvalue())
made = {{"client": created("create_client", "bench {now}")}}
for kind in ("native", "android", "twilio", "jasmin"):
    made[kind] = created("create_gateway", kind, f"bench {{kind}}")
created("create_gateway", "console", "bench console {now}")
print(json.dumps(made))
"""


BENCH_SETUP = """
from django.core.management import call_command
call_command("migrate", "--noinput", "-v0")
from apps.core.redis import get_redis
from apps.core.system_settings import system_setting_set
for role in ("data", "broker", "results", "cache"):
    get_redis(role).flushdb()
system_setting_set(key="register_rate_per_minute", value=10**9)
system_setting_set(key="register_per_number_per_hour", value=10**9)
system_setting_set(key="register_per_client_number_per_hour", value=10**9)
system_setting_set(key="notification_rate_per_minute", value=10**9)
system_setting_set(key="notification_per_destination_per_hour", value=10**9)
from apps.core.repair import redis_repair
redis_repair(force=True)
"""


def start_server() -> subprocess.Popen:
    env = {**os.environ, **BENCH_ENV}
    cmd = [
        str(Path(sys.executable).parent / "gunicorn"),
        "smsbridge.wsgi:application",
        "--config", "python:smsbridge.gunicorn_conf",
        "--bind", f"127.0.0.1:{PORT}",
        "--workers", str(WEB_WORKERS),
        "--threads", str(WEB_THREADS),
        "--log-level", "warning",
    ]  # fmt: skip
    # The access log is written as in production, to a pipe nobody reads but /dev/null.
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit("bench: gunicorn did not start")


def request_for(kind: str, n: int, creds: dict[str, str]) -> tuple[str, str, bytes | None, dict[str, str]]:
    if kind == "live":
        return "GET", "/health/live", None, {}
    if kind in OTP_KINDS:
        return otp_request_for(kind, n, creds)
    if kind == "register":
        number = f"9{(n % 900_000_000) + 100_000_000}"
        return "GET", f"/onboard/register/{number}", None, {"Authorization": f"Bearer {creds['api_key']}"}
    if kind == "status":  # the numbers status_prime registered
        number = f"7{(n % STATUS_NUMBERS) + 100_000_000}"
        return "GET", f"/onboard/status/{number}", None, {"Authorization": f"Bearer {creds['api_key']}"}
    if kind in GATEWAY_KINDS:
        return gateway_request_for(kind, n, creds)
    if kind == "notify":
        number = f"+919{(n % 900_000_000) + 100_000_000}"
        payload = {"channel": "sms", "to": number, "body": "Your code is 123456"}
        headers = {"Authorization": f"Bearer {creds['api_key']}", "Content-Type": "application/json"}
        return "POST", "/notifications", json.dumps(payload).encode(), headers
    body = json.dumps(
        {
            "sender_number": f"+9198{n % 100_000_000:08d}",
            "sms_message": "ONBOARD:" + "a" * 64,
            "received_timestamp": datetime.now(UTC).isoformat(),
            "message_id": f"bench-{n}",
        }
    ).encode()
    headers = {"Authorization": f"Bearer {creds['gateway_token']}", "Content-Type": "application/json"}
    return "POST", "/sms/receive", body, headers


STATUS_NUMBERS = 256
GATEWAY_KINDS = ("android", "twilio", "jasmin")


def gateway_request_for(kind: str, n: int, creds: dict[str, str]) -> tuple[str, str, bytes, dict[str, str]]:
    """A new SMS from a new number, in the format and signature of each gateway kind."""
    import hashlib
    import hmac
    from urllib.parse import urlencode

    sender, body = f"+9197{n % 100_000_000:08d}", "ONBOARD:" + "a" * 64
    gateway_id, secret = creds[f"{kind}_id"], creds[f"{kind}_secret"]
    if kind == "android":
        path = f"/sms/receive/android/{gateway_id}"
        payload = {"messageId": f"m{n}", "message": body, "phoneNumber": sender, "simNumber": 1}
        envelope = {
            "deviceId": "bench", "event": "sms:received", "id": f"bench-{n}", "webhookId": "bench",
            "payload": {**payload, "receivedAt": datetime.now(UTC).isoformat()},
        }  # fmt: skip
        raw = json.dumps(envelope).encode()
        stamp = str(int(time.time()))
        signature = hmac.new(secret.encode(), raw + stamp.encode(), hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-Signature": signature, "X-Timestamp": stamp}
        return "POST", path, raw, headers
    form = "application/x-www-form-urlencoded"
    if kind == "twilio":
        from twilio.request_validator import RequestValidator

        path = f"/sms/receive/twilio/{gateway_id}"
        sid = f"SM{n:032x}"
        params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "0" * 32, "From": sender}
        params |= {"To": "+919000000000", "Body": body, "NumMedia": "0"}
        url = f"http://127.0.0.1:{creds.get('port', PORT)}{path}"
        signature = RequestValidator(secret).compute_signature(url, params)
        return (
            "POST",
            path,
            urlencode(params).encode(),
            {"Content-Type": form, "X-Twilio-Signature": signature},
        )
    params = {"id": f"bench-{n}", "from": sender, "to": "9000000000", "origin-connector": "bench"}
    params |= {
        "priority": "0",
        "coding": "0",
        "validity": "0",
        "content": body,
        "binary": body.encode().hex(),
    }
    return (
        "POST",
        f"/sms/receive/jasmin/{gateway_id}?token={secret}",
        urlencode(params).encode(),
        {"Content-Type": form},
    )


def status_prime(creds: dict[str, str]) -> None:
    """Register the numbers GET /onboard/status asks about, so every status finds one."""
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    for n in range(STATUS_NUMBERS):
        conn.request(
            "GET",
            f"/onboard/register/7{n + 100_000_000}",
            headers={"Authorization": f"Bearer {creds['api_key']}"},
        )
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"bench: registering a status number answered {response.status}")
    conn.close()


# Requests written per endpoint and round: more than the fastest endpoint answers in
# BENCH_SECONDS here (about 4,000 a second), so a round never repeats a request.
POOL_RATE = 4000
_rounds: dict[tuple[str, str], int] = {}


def request_numbers(count: int) -> list[int]:
    """``count`` request numbers in the numbering of the OTP codes and the django-phone-verify
    pool (loader * 10^7 + connection * 10^6 + i), taken in turn from each connection's run."""
    per_loader = CONNECTIONS // LOADERS
    starts = [seed * 10_000_000 + index * 1_000_000 for seed in range(LOADERS) for index in range(per_loader)]
    return [start + i for i in range(count // len(starts) + 1) for start in starts][:count]


def measure(
    kind: str,
    creds: dict[str, str],
    *,
    pause_ms: float | None = None,
    connections: int = CONNECTIONS,
    seconds: float | None = None,
) -> dict[str, Any]:
    """Drive ``kind`` with wrk for ``seconds`` (DURATION when not given: read at the call,
    since the end-to-end run sets it); each call for a kind starts where the previous
    one's requests ended (fresh numbers, message ids, codes)."""
    from scripts.bench_wrk import pool_write, wrk_run

    port = int(creds.get("port", PORT))
    per_round = int(POOL_RATE * DURATION)
    round_ = _rounds.get((kind, str(port)), 0)
    _rounds[(kind, str(port))] = round_ + 1
    numbers = request_numbers(per_round * (round_ + 1))[per_round * round_ :]
    pool = pool_write(kind, numbers, request_for, creds, port)
    return wrk_run(pool, port=port, seconds=seconds or DURATION, connections=connections, pause_ms=pause_ms)


HTTP_KINDS = ("register", "status", "receive", *GATEWAY_KINDS, "notify", "otp_request", "otp_verify")


_started = time.monotonic()


def stage(name: str) -> None:
    print(f"bench [{time.monotonic() - _started:5.0f} s]: {name}", file=sys.stderr, flush=True)


# /health/live runs between the endpoints' runs, for a shorter time each.
LIVE_SECONDS = max(1.0, round(DURATION * 0.6))


def measure_http(creds: dict[str, str]) -> tuple[dict[str, Any], dict[str, float]]:
    """Every endpoint against /health/live, ROUNDS times; the median ratio of each.

    Each endpoint's run sits between two runs of /health/live and is compared with their
    geometric mean: this machine's speed drifts by tens of percent within a minute, and
    a round that ran /health/live once at its start compared it with endpoints run up to
    45 s later (in one round of a run /health/live went from 2,863 to 861 req/s)."""
    rounds: list[dict[str, dict[str, Any]]] = []
    for _ in range(ROUNDS):
        lives = [measure("live", creds, seconds=LIVE_SECONDS)]
        this_round: dict[str, dict[str, Any]] = {}
        for kind in HTTP_KINDS:
            this_round[kind] = measure(kind, creds)
            lives.append(measure("live", creds, seconds=LIVE_SECONDS))
            this_round[kind]["live_rps"] = math.sqrt(lives[-2]["rps"] * lives[-1]["rps"])
        this_round["live"] = _combined(lives)
        rounds.append(this_round)
    results: dict[str, Any] = {}
    ratios: dict[str, float] = {}
    for kind in ("live", *HTTP_KINDS):
        runs = [r[kind] for r in rounds]
        results[kind] = {
            "rps": statistics.median(r["rps"] for r in runs),
            "rps_each": [r["rps"] for r in runs],
            "requests": sum(r["requests"] for r in runs),
            "errors": sum(r["errors"] for r in runs),
            "p50_ms": statistics.median(r.get("p50_ms", 0) for r in runs),
            "p99_ms": statistics.median(r.get("p99_ms", 0) for r in runs),
        }
        if kind != "live":
            each = [r[kind]["rps"] / r[kind]["live_rps"] for r in rounds if r[kind]["live_rps"]]
            results[kind]["ratio_each"] = [round(x, 3) for x in each]
            ratios[f"{kind}_vs_live"] = round(statistics.median(each), 3)
    return results, ratios


def _combined(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One round's /health/live runs as one: the median rate and latencies, all requests."""
    return {
        "rps": statistics.median(r["rps"] for r in runs),
        "requests": sum(r["requests"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
        "p50_ms": statistics.median(r.get("p50_ms", 0) for r in runs),
        "p99_ms": statistics.median(r.get("p99_ms", 0) for r in runs),
    }


# --- end to end: accepted by /sms/receive and judged by a real Celery worker ---------------
E2E_SECONDS = float(os.environ.get("BENCH_E2E_SECONDS", "1" if QUICK else "30"))
E2E_RATE = float(os.environ.get("BENCH_E2E_RATE", "500"))  # SMS/s of the latency measurement
E2E_CONNECTIONS = 64  # paced connections: 8 could not keep 500/s once replies slowed


def start_worker() -> subprocess.Popen:
    """The validation worker as deploy/Procfile runs it (queue celery, 2 processes)."""
    cmd = [
        str(Path(sys.executable).parent / "celery"), "-A", "smsbridge", "worker", "-Q", "celery",
        "--concurrency", "2", "-O", "fair", "--without-gossip", "--without-mingle", "--loglevel", "WARNING",
    ]  # fmt: skip
    env = {**os.environ, **BENCH_ENV}
    return subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL)


_stopping: list[subprocess.Popen] = []


def stop_group(proc: subprocess.Popen, timeout: float = 30, *, later: bool = False) -> None:
    """SIGTERM, then SIGKILL to the process group the bench started (never by name).

    ``later``: SIGTERM only, and ``stopped()`` waits: a --quick run goes on meanwhile with
    work that needs neither process (the worker's warm shutdown alone took 2.6 s).
    """
    proc.terminate()
    if later:
        _stopping.append(proc)
    else:
        _wait_or_kill(proc, timeout)


def stopped() -> None:
    """Wait for the processes stop_group(later=True) was asked to stop."""
    while _stopping:
        _wait_or_kill(_stopping.pop(), 30)


def _wait_or_kill(proc: subprocess.Popen, timeout: float) -> None:
    import signal

    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _verdicts(r: Any) -> int:
    from apps.core import keys

    return sum(int(v) for v in r.hvals(keys.metrics_verdicts()))


def _drained(r: Any, timeout: float) -> float:
    """When the inbound queue is empty and nothing is being judged (monotonic seconds)."""
    from apps.core import keys

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        queue = keys.sms_inbound_queue()
        if not r.llen(queue) and not r.zcard(keys.batch_index(queue)):
            return time.monotonic()
        time.sleep(0.05)
    raise SystemExit("bench: the worker did not judge the queued SMS in time")


def measure_end_to_end(creds: dict[str, str], server: subprocess.Popen) -> dict[str, Any]:
    """SMS/s accepted and judged, sustained E2E_SECONDS with web and a real worker on this
    machine, then the verdict latency (queued to judged, from the monitor events) at E2E_RATE.

    Also the CPU each part spent per judged SMS over the sustained run (web: the gunicorn
    group; worker: the Celery group; Redis: its own count), so the figure says which part
    bounds it on this machine.
    """
    environ = dict(os.environ)
    django_setup()  # for the keys and the client; the environment stays as it was for
    os.environ.clear()  # the processes started after this (django-phone-verify's server)
    os.environ.update(environ)
    from apps.audit.payloads import MonitorEventRecord
    from apps.core import keys
    from apps.core.redis import get_redis

    r = get_redis()
    worker = start_worker()
    saved = DURATION
    try:
        globals()["DURATION"] = min(2, saved)
        measure("receive", creds)  # the worker starts and catches up
        _drained(r, 60)
        globals()["DURATION"] = E2E_SECONDS
        cpu_before = _cpu_seconds(r, web=server, worker=worker)
        before, started = _verdicts(r), time.monotonic()
        accepted = measure("receive", creds)
        done = _drained(r, 120)
        judged = _verdicts(r) - before
        cpu = {
            f"{part}_cpu_ms_per_sms": round((spent - cpu_before[part]) * 1000 / max(1, judged), 3)
            for part, spent in _cpu_seconds(r, web=server, worker=worker).items()
        }
        r.delete(keys.sms_monitor_queue())
        # Many connections, each pausing between a reply and its next request for what is left
        # of its share of E2E_RATE once the reply's own time (the full-speed p50) is taken off.
        pause = max(0.0, E2E_CONNECTIONS * 1000 / E2E_RATE - accepted.get("p50_ms", 0.0))
        paced = measure("receive", creds, pause_ms=pause, connections=E2E_CONNECTIONS)
        _drained(r, 60)
        events = [MonitorEventRecord.from_json(e) for e in r.lrange(keys.sms_monitor_queue(), 0, -1)]
    finally:
        globals()["DURATION"] = saved
        stop_group(worker, later=QUICK)
    waits = sorted(e.created_at - e.queued_at for e in events if e.queued_at)
    if not waits:
        raise SystemExit("bench: no monitor event carried its queue time")
    return {
        "seconds": E2E_SECONDS,
        "accepted_per_second": accepted["rps"],
        "judged": judged,
        "sms_per_second": round(judged / (done - started), 1),
        "errors": accepted["errors"] + paced["errors"],
        "paced_rate": paced["rps"],
        "verdict_p50_ms": round(waits[len(waits) // 2] * 1000, 1),
        "verdict_p99_ms": round(waits[min(len(waits) - 1, int(len(waits) * 0.99))] * 1000, 1),
        "verdicts_timed": len(waits),
        **cpu,
    }


def _cpu_seconds(r: Any, **groups: subprocess.Popen) -> dict[str, float]:
    """User and system CPU seconds so far of each process group the bench started (each in
    a session of its own: the group's id is the leader's pid), from /proc, and of Redis."""
    tick = os.sysconf("SC_CLK_TCK")
    spent = dict.fromkeys(groups, 0.0)
    leaders = {proc.pid: name for name, proc in groups.items()}
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # not a process, or gone meanwhile
        name = leaders.get(int(fields[2]))  # the process group id
        if name:
            spent[name] += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    info = r.info("cpu")
    spent["redis"] = float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
    return spent


# --- one-time passwords, and django-phone-verify's verify beside ours ----------------------
OTP_KINDS = ("otp_request", "otp_verify", "phone_verify")
# Codes made before the verify run, per load connection: each verify spends one, so there
# must be more than a connection sends in BENCH_SECONDS (about 1,000 a second at most here).
# --quick makes only as many as its requests can ask for (storing 64,000 took seconds).
OTP_CODES_PER_CONNECTION = int(POOL_RATE * DURATION * ROUNDS / CONNECTIONS) + 1 if QUICK else 8000
OTP_BENCH_SETUP = """
import os
from apps.core import keys
from apps.core.phone import mobile_parse
from apps.core.redis import get_redis
from apps.core.system_settings import system_setting_set
from apps.otp.payloads import OtpRecord
from apps.otp.services.codes import otp_hash
for key in ("otp_request_rate_per_minute", "otp_request_per_number_per_hour", "otp_request_per_ip_per_hour",
            "otp_verify_rate_per_minute", "otp_verify_per_number_per_hour", "otp_verify_per_ip_per_hour",
            "otp_prefix_per_window", "otp_conversion_min_requests"):
    system_setting_set(key=key, value=10**9)
client_id = os.environ["BENCH_OTP_CLIENT"]
r = get_redis()
pipe = r.pipeline(transaction=False)
for n in map(int, os.environ["BENCH_OTP_NUMBERS"].split(",")):
    for k in range(int(os.environ["BENCH_OTP_COUNT"])):
        mobile = mobile_parse(f"8{((n + k) % 900_000_000) + 100_000_000}").key
        code = f"{(n + k) % 1_000_000:06d}"
        record = OtpRecord(otp_hash(client_id=client_id, mobile=mobile, code=code), mobile, "", "")
        pipe.set(keys.otp(client_id, mobile), record.to_json(), ex=3600)
        if len(pipe) >= 5000:
            pipe.execute()
pipe.execute()
"""


def otp_setup(creds: dict[str, str]) -> None:
    """Lift the OTP limits (the bench measures the endpoint, not its 429) and store a code
    known to the bench for every verify request it will send (the same HMAC as the server's)."""
    per_loader = CONNECTIONS // LOADERS
    starts = [seed * 10_000_000 + index * 1_000_000 for seed in range(LOADERS) for index in range(per_loader)]
    env = {
        "BENCH_OTP_CLIENT": creds["client_id"],
        "BENCH_OTP_NUMBERS": ",".join(map(str, starts)),
        "BENCH_OTP_COUNT": str(OTP_CODES_PER_CONNECTION),
    }
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", OTP_BENCH_SETUP],
        cwd=ROOT,
        env={**os.environ, **BENCH_ENV, **env},
        check=True,
        capture_output=True,
        text=True,
    )


@functools.cache
def _phone_verify_pool(raw: str) -> list[list[str]]:
    return json.loads(raw)


def otp_request_for(
    kind: str, n: int, creds: dict[str, str]
) -> tuple[str, str, bytes | None, dict[str, str]]:
    if kind == "phone_verify":
        from scripts.bench_phone_verify import verify_request

        return verify_request(
            n,
            _phone_verify_pool(creds["pool"]),
            per_loader=CONNECTIONS // LOADERS,
            per_connection=PHONE_VERIFY_CODES_PER_CONNECTION,
        )
    headers = {"Authorization": f"Bearer {creds['api_key']}", "Content-Type": "application/json"}
    if kind == "otp_request":  # a new number each time, as a sign-up form sends them
        payload = {"mobile_number": f"9{(n % 900_000_000) + 100_000_000}"}
        return "POST", "/otp/request", json.dumps(payload).encode(), headers
    payload = {"mobile_number": f"8{(n % 900_000_000) + 100_000_000}", "otp": f"{n % 1_000_000:06d}"}
    return "POST", "/otp/verify", json.dumps(payload).encode(), headers


PHONE_VERIFY_CODES_PER_CONNECTION = 100 if QUICK else 1000


def measure_phone_verify() -> dict[str, Any]:
    """django-phone-verify's verify endpoint, driven as ours is, on a server of its own."""
    from scripts.bench_phone_verify import prepare as phone_verify_prepare
    from scripts.bench_phone_verify import server_start as phone_verify_server_start

    # --quick: a tenth of the codes (each is verified again and again all the same): making
    # them through the library took most of its preparation.
    per_connection = PHONE_VERIFY_CODES_PER_CONNECTION
    url, pool = phone_verify_prepare(
        BENCH_ENV["DATABASE_URL"], connections=CONNECTIONS, per_connection=per_connection
    )
    port = free_port()
    server = phone_verify_server_start(url, port, workers=WEB_WORKERS, threads=WEB_THREADS)
    try:
        creds = {"port": str(port), "pool": json.dumps(pool)}
        warm_up("phone_verify", creds)
        run = measure("phone_verify", creds)
    finally:
        server.terminate()
        server.wait(timeout=15)
    return {**run, "codes_in_table": len(pool)}


# --- background work, measured in-process against the same PostgreSQL and Redis ---------
FLUSH_EVENTS = int(os.environ.get("BENCH_FLUSH_EVENTS", "5000" if QUICK else "50000"))
SWEEP_COUNTERS = int(os.environ.get("BENCH_SWEEP_COUNTERS", "100000" if QUICK else "1000000"))


def django_setup() -> None:
    os.environ.update(BENCH_ENV)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def measure_flush() -> dict[str, float]:
    """Monitor-event flush rate (Redis -> PostgreSQL) beside a raw COPY of the same rows.

    The COPY is the floor: the rows made beforehand, their CSV streamed by the drain's
    own writer (apps.core.bulk.CsvStream) in one COPY and one commit. The flush does
    what exactly-once needs on top: it claims each batch in Redis, decodes its events
    into rows, COPYs and commits each batch on its own (an acknowledged batch is
    stored: one WAL flush per DRAIN_BATCH_SIZE events), then acknowledges it. Each run
    starts from an empty table (TRUNCATE): after a DELETE, the dead rows of the runs
    before slowed whichever came later.

    ``flush_vs_copy_made_first`` is the ratio the bench reported before the streamed drain, against
    a COPY whose whole CSV is made before it is sent (PostgreSQL waiting meanwhile):
    reported beside, so the history can be read across the change.
    """
    from django.db import connection

    from apps.audit import services as audit
    from apps.audit.events import monitor_event
    from apps.audit.models import MonitorEvent
    from apps.audit.payloads import MonitorEventRecord
    from apps.core import keys
    from apps.core.bulk import CsvStream, copy_from, csv_buffer
    from apps.core.redis import get_redis

    events = [
        monitor_event(
            status="invalid", mobile=f"98{n:08d}", reason="header_hash", check_results={"mobile": 1}
        )
        for n in range(FLUSH_EVENTS)
    ]
    now = datetime.now(UTC).isoformat()
    rows = [audit._row(MonitorEventRecord.fields_from_json(e), now) for e in events]
    table = MonitorEvent._meta.db_table
    cols = ", ".join(audit.COLUMNS)
    copy_rates, made_first_rates, flush_rates = [], [], []
    copy = f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv)"

    def empty() -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {table}")

    for _ in range(3):
        empty()
        started = time.perf_counter()
        with connection.cursor() as cursor:
            copy_from(cursor, copy, CsvStream(rows))  # audit._row encodes the JSON columns itself
        copy_rates.append(FLUSH_EVENTS / (time.perf_counter() - started))

        empty()
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.copy_expert(copy, csv_buffer(rows))
        made_first_rates.append(FLUSH_EVENTS / (time.perf_counter() - started))

        empty()
        r = get_redis()
        for start in range(0, FLUSH_EVENTS, 5000):
            r.lpush(keys.sms_monitor_queue(), *events[start : start + 5000])
        started = time.perf_counter()
        flushed = audit.monitor_flush()
        flush_rates.append(flushed / (time.perf_counter() - started))
        if not flushed == FLUSH_EVENTS == MonitorEvent.objects.count():
            raise SystemExit("bench: the flush lost or duplicated events")
    empty()
    copy_rate, made_first_rate, flush_rate = max(copy_rates), max(made_first_rates), max(flush_rates)
    return {
        "events": FLUSH_EVENTS,
        "copy_rows_per_second": round(copy_rate),
        "copy_made_first_rows_per_second": round(made_first_rate),
        "flush_events_per_second": round(flush_rate),
        "flush_vs_copy": round(flush_rate / copy_rate, 3),
        "flush_vs_copy_made_first": round(flush_rate / made_first_rate, 3),
    }


def measure_sweep() -> dict[str, float]:
    from apps.abuse.services import abuse_sweep
    from apps.core import keys
    from apps.core.redis import get_redis
    from apps.core.system_settings import system_settings_get

    r = get_redis()
    r.flushdb()
    threshold = system_settings_get().abuse_threshold
    with r.pipeline(transaction=False) as pipe:
        for n in range(SWEEP_COUNTERS):
            count = threshold if n % 100 == 0 else 1  # 1 % are offenders
            pipe.set(keys.abuse_counter(f"9{n:09d}"), count, ex=86400)
            if n % 10_000 == 9_999:
                pipe.execute()
        pipe.execute()
    offenders = [f"9{n:09d}" for n in range(0, SWEEP_COUNTERS, 100)]
    # As the pipeline leaves them: the offenders noted, a full scan on record.
    for start in range(0, len(offenders), 10_000):
        r.sadd(keys.abuse_offenders(), *offenders[start : start + 10_000])
    r.set(keys.abuse_scan_threshold(), threshold)
    started = time.perf_counter()
    noted = abuse_sweep()
    noted_seconds = time.perf_counter() - started
    r.delete(keys.blacklist_mobiles())  # listed again by the scan
    started = time.perf_counter()
    added = abuse_sweep(full=True)
    seconds = time.perf_counter() - started
    if not noted == added == len(offenders):
        raise SystemExit(f"bench: the sweeps found {noted} and {added} offenders, not {len(offenders)}")
    r.flushdb()
    return {
        "counters": SWEEP_COUNTERS,
        "offenders": added,
        "seconds": round(seconds, 2),
        "noted_seconds": round(noted_seconds, 2),
    }


SEND_NOTIFICATIONS = int(os.environ.get("BENCH_SEND_NOTIFICATIONS", "200" if QUICK else "2000"))
PROVIDER_LATENCY = float(os.environ.get("BENCH_PROVIDER_LATENCY", "0.005"))  # seconds per API call


def fake_android_api(port: int) -> None:
    """A stand-in for SMS Gateway for Android's message API in a process of its own, so its
    work does not share the sender's interpreter; it answers like the real one, after
    PROVIDER_LATENCY (a phone on the local network answers in milliseconds)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            message = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            time.sleep(PROVIDER_LATENCY)
            state = {"id": message["id"], "state": "Pending", "recipients": []}
            body = json.dumps(state).encode()
            self.send_response(202)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def measure_sends(creds: dict[str, str]) -> dict[str, float]:
    """Notifications sent per second by one worker's sender through a local provider API."""
    from django.conf import settings

    from apps.core import keys
    from apps.core.redis import get_redis
    from apps.inbound.models import Gateway
    from apps.inbound.send_config import SendConfig
    from apps.inbound.services import gateway_create
    from apps.messaging.services.enqueue import notification_enqueue
    from apps.messaging.services.routing import routes_forget
    from apps.messaging.services.sender import notifications_send_pending

    port = free_port()
    server = mp.Process(target=fake_android_api, args=(port,), daemon=True)
    server.start()
    wait_for_port(port)
    try:
        Gateway.objects.filter(kind__in=("console", "android")).delete()
        gateway_create(
            kind="android",
            name=f"bench android {datetime.now(UTC).isoformat()}",
            # The stand-in API checks no password; the gateway needs one all the same.
            send=SendConfig(url=f"http://127.0.0.1:{port}", username="bench", password="bench", priority=1),  # noqa: S106
        )
        routes_forget()
        get_redis().set(keys.redis_ready(), time.time())
        for n in range(SEND_NOTIFICATIONS):
            notification_enqueue(
                client_id=creds["client_id"], channel="sms", to=f"+9198{n:08d}", body="bench"
            )
        started = time.perf_counter()
        handled = notifications_send_pending()
        seconds = time.perf_counter() - started
    finally:
        server.terminate()
    if handled != SEND_NOTIFICATIONS:
        raise SystemExit(f"bench: the sender handled {handled} of {SEND_NOTIFICATIONS} notifications")
    return {
        "notifications": SEND_NOTIFICATIONS,
        "concurrency": settings.NOTIFICATION_SEND_CONCURRENCY,
        "provider_latency_ms": PROVIDER_LATENCY * 1000,
        "seconds": round(seconds, 2),
        "sends_per_second": round(SEND_NOTIFICATIONS / seconds, 1),
    }


MEMORY_REGISTRATIONS = int(os.environ.get("BENCH_MEMORY_REGISTRATIONS", "2000" if QUICK else "20000"))
MEMORY_VERIFIED = int(os.environ.get("BENCH_MEMORY_VERIFIED", "20000" if QUICK else "200000"))


def deploy_redis_memory_settings() -> list[str]:
    """The encoding thresholds deploy/redis.conf sets, as redis-server arguments."""
    lines = (ROOT / "deploy" / "redis.conf").read_text().splitlines()
    wanted = [line.split() for line in lines if line.startswith(("hash-max-", "set-max-"))]
    return [arg for name, value in wanted for arg in (f"--{name}", value)]


def measure_memory_with_deploy_config() -> dict[str, float]:
    """measure_memory on a private redis-server started with deploy/redis.conf's encodings."""
    from django.conf import settings

    port = free_port()
    args = ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"]
    server = subprocess.Popen([*args, *deploy_redis_memory_settings()], stdout=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        previous, settings.REDIS_URL = settings.REDIS_URL, f"redis://127.0.0.1:{port}/0"
        try:
            return measure_memory()
        finally:
            settings.REDIS_URL = previous
    finally:
        server.terminate()
        server.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def warm_up(kind: str, creds: dict[str, str]) -> None:
    """A run of ``kind`` before the one measured (imports, connections, caches); in --quick
    only until the server answers at all, so its workers' start is not measured."""
    if not QUICK:
        measure(kind, creds)
        return
    port = int(creds.get("port", PORT))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/health/live")
            conn.getresponse().read()  # any answer: a worker is serving
            conn.close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"bench: nothing answers on port {port}")


def wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"bench: nothing listens on port {port}")


# The event history's default bounds (settings EVENT_FEED_LENGTH, EVENT_HISTORY_LENGTH):
# the feed full, and one client's history full.
EVENT_FEED_BOUND, EVENT_CLIENT_BOUND = 100_000, 10_000


def measure_memory() -> dict[str, float]:
    """Redis bytes per pending registration and per verified number (used_memory deltas).

    Registrations go through the real register service (its Lua script), one per number,
    which is the costly case: a number's second registration shares the number's keys.
    The monitor events they queue are drained within seconds and not counted; the
    rate-limit state is counted, and reported apart since it expires within minutes.
    """
    from apps.clients.services import client_create
    from apps.core import keys
    from apps.core.phone import mobile_parse
    from apps.core.redis import get_redis
    from apps.core.system_settings import system_setting_set
    from apps.onboarding.services.registration import number_register

    system_setting_set(key="register_rate_per_minute", value=10**9)
    r = get_redis()
    r.flushdb()
    r.set(keys.redis_ready(), 1)
    client, _ = client_create(name=f"memory-{time.time()}")
    mobiles = [mobile_parse(f"9{n:09d}") for n in range(MEMORY_REGISTRATIONS)]
    before = int(r.info("memory")["used_memory"])
    for mobile in mobiles:
        number_register(mobile=mobile, client_id=str(client.id))
    r.delete(keys.sms_monitor_queue())
    # The event history is bounded (EVENT_HISTORY_LENGTH per client, EVENT_FEED_LENGTH in
    # all), not a cost per registration: reported apart, per event, and left out.
    streams = [keys.event_feed(), keys.event_history(str(client.id))]
    history_bytes = sum(int(r.memory_usage(key, samples=0) or 0) for key in streams)
    history_events = sum(int(r.xlen(key)) for key in streams)
    r.delete(*streams)
    with_rates = int(r.info("memory")["used_memory"]) - before
    rate_keys = [keys.register_client_number_rate(str(client.id), m.key) for m in mobiles]
    rate_keys += [keys.register_number_rate(m.key) for m in mobiles]
    for start in range(0, len(rate_keys), 5000):
        r.delete(*rate_keys[start : start + 5000])
    pending = int(r.info("memory")["used_memory"]) - before
    r.flushdb()
    before = int(r.info("memory")["used_memory"])
    with r.pipeline(transaction=False) as pipe:
        for start in range(0, MEMORY_VERIFIED, 10_000):
            pipe.sadd(keys.out_sms_numbers(), *(f"8{n:09d}" for n in range(start, start + 10_000)))
        pipe.execute()
    verified = int(r.info("memory")["used_memory"]) - before
    r.flushdb()
    return {
        "registrations": MEMORY_REGISTRATIONS,
        "bytes_per_pending_registration": round(pending / MEMORY_REGISTRATIONS),
        "bytes_per_pending_registration_with_rate_limits": round(with_rates / MEMORY_REGISTRATIONS),
        "bytes_per_history_event": round(history_bytes / max(1, history_events)),
        "mb_event_history_at_its_bounds": round(
            history_bytes / max(1, history_events) * (EVENT_FEED_BOUND + EVENT_CLIENT_BOUND) / 2**20, 1
        ),
        "verified_numbers": MEMORY_VERIFIED,
        "bytes_per_verified_number": round(verified / MEMORY_VERIFIED, 1),
        "mb_per_million_verified": round(verified / MEMORY_VERIFIED * 1_000_000 / 2**20, 1),
        "hash_max_listpack_value": int(
            str(r.config_get("hash-max-listpack-value")["hash-max-listpack-value"])
        ),
    }


# --- Redis outages and durability on receive (docs/benchmark.md) ---------------------------
# Each measurement runs gunicorn against a private redis-server it starts and stops by its
# own pid: one to SIGSTOP and kill, and one per persistence setting for the receive cost.
OUTAGE_REQUESTS = 50
# The breaker's open period on the outage server, waited for before the refused round: the
# default (REDIS_BREAKER_OPEN_SECONDS), or a second in --quick. The 50 requests after the
# first take well under it.
OUTAGE_BREAKER_SECONDS = 1.0 if QUICK else 2.0


def private_redis(workdir: Path, *options: str) -> tuple[subprocess.Popen, int]:
    import shutil

    import redis

    port = free_port()
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(workdir), *options],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    client = redis.Redis(port=port, socket_connect_timeout=0.2)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if client.ping():
                return proc, port
        except redis.RedisError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("bench: a private redis-server did not start")


def server_on_redis(redis_port: int, *, workers: int = 2, **env: str) -> subprocess.Popen:
    """gunicorn on PORT with the data Redis on a private server and the hot path's own
    socket time-out (BENCH_ENV raises it for the big loads)."""
    overrides = {"REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "REDIS_SOCKET_TIMEOUT": "0.5", **env}
    cmd = [
        str(Path(sys.executable).parent / "gunicorn"), "smsbridge.wsgi:application",
        "--bind", f"127.0.0.1:{PORT}", "--workers", str(workers), "--log-level", "critical",
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env={**os.environ, **BENCH_ENV, **overrides}, start_new_session=True
    )
    wait_for_port(PORT)
    return proc


def _timed_get(path: str, headers: dict[str, str]) -> tuple[int, float]:
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    start = time.perf_counter()
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status, (time.perf_counter() - start) * 1000


def _outage_figures(auth: dict[str, str]) -> dict[str, Any]:
    health_first = _timed_get("/health", {})[1]  # the breaker still closed: /health's own probe
    status, first = _timed_get("/onboard/register/9876543210", auth)
    after = sorted(_timed_get("/onboard/register/9876543210", auth)[1] for _ in range(OUTAGE_REQUESTS))
    health = sorted(_timed_get("/health", {})[1] for _ in range(10))
    return {
        "first_status": status,
        "first_ms": round(first, 1),
        "then_median_ms": round(after[len(after) // 2], 2),
        "then_max_ms": round(after[-1], 2),
        "health_first_ms": round(health_first, 1),
        "health_max_ms": round(health[-1], 1),
    }


def measure_redis_outage(creds: dict[str, str]) -> dict[str, Any]:
    """Register's 503 latency after the first failure, and /health's, with Redis stopped
    (SIGSTOP: a hung server) and refusing (killed); one web worker, so one breaker."""
    import signal
    import tempfile

    import redis

    auth = {"Authorization": f"Bearer {creds['api_key']}"}
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-outage-") as workdir:
        redis_proc, redis_port = private_redis(Path(workdir))
        redis.Redis(port=redis_port).set("redis_ready", time.time())
        quick = {"REDIS_BREAKER_OPEN_SECONDS": str(OUTAGE_BREAKER_SECONDS)} if QUICK else {}
        server = server_on_redis(redis_port, workers=1, **quick)
        try:
            _timed_get("/onboard/register/9876543210", auth)  # warm: mirrors rebuilt, caches filled
            os.kill(redis_proc.pid, signal.SIGSTOP)
            figures["stopped"] = _outage_figures(auth)
            os.kill(redis_proc.pid, signal.SIGCONT)
            redis_proc.kill()
            redis_proc.wait(timeout=10)
            # Past the breaker's open period: the first request asks again.
            time.sleep(OUTAGE_BREAKER_SECONDS + 0.5)
            figures["refused"] = _outage_figures(auth)
        finally:
            server.terminate()
            server.wait(timeout=15)
            if redis_proc.poll() is None:
                os.kill(redis_proc.pid, signal.SIGCONT)
                redis_proc.kill()
    return figures


def measure_receive_durability(creds: dict[str, str]) -> dict[str, Any]:
    """POST /sms/receive with the data Redis on AOF everysec, on AOF always, and on everysec
    with a replica that must confirm each SMS (INBOUND_ACK_REPLICAS=1)."""
    import tempfile

    import redis

    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-durability-") as workdir:
        for name, fsync, replicas in (
            ("everysec", "everysec", 0),
            ("always", "always", 0),
            ("replica_ack", "everysec", 1),
        ):
            base = Path(workdir) / name
            (base / "replica").mkdir(parents=True)
            procs = []
            try:
                # No wait for more replicas before the first sync (5 s by default, a
                # tenth of a --quick run); the sync is over before anything is measured.
                primary, port = private_redis(
                    base, "--appendonly", "yes", "--appendfsync", fsync, "--repl-diskless-sync-delay", "0"
                )
                procs.append(primary)
                if replicas:
                    replica, replica_port = private_redis(
                        base / "replica", "--replicaof", "127.0.0.1", str(port)
                    )
                    procs.append(replica)
                    link = redis.Redis(port=replica_port)
                    while link.info("replication").get("master_link_status") != "up":
                        time.sleep(0.05)
                server = server_on_redis(port, INBOUND_ACK_REPLICAS=str(replicas))
                try:
                    warm_up("receive", creds)
                    figures[name] = measure("receive", creds)
                finally:
                    server.terminate()
                    server.wait(timeout=15)
            finally:
                for proc in procs:
                    proc.kill()
                    proc.wait(timeout=10)
    base_rps = figures["everysec"]["rps"] or 1
    figures["always_vs_everysec"] = round(figures["always"]["rps"] / base_rps, 3)
    figures["replica_ack_vs_everysec"] = round(figures["replica_ack"]["rps"] / base_rps, 3)
    return figures


def print_outage_and_durability(outage: dict[str, Any], durability: dict[str, Any]) -> None:
    for state, f in outage.items():
        print(
            f"redis {state}: first request {f['first_ms']} ms ({f['first_status']}), then 503 in "
            f"{f['then_median_ms']} ms median, {f['then_max_ms']} ms max; /health {f['health_first_ms']} ms "
            f"before the breaker opened, then at most {f['health_max_ms']} ms"
        )
    print(
        f"receive durability: everysec {durability['everysec']['rps']} req/s, always "
        f"{durability['always']['rps']} ({durability['always_vs_everysec']}x), replica ack "
        f"{durability['replica_ack']['rps']} ({durability['replica_ack_vs_everysec']}x)"
    )


def main() -> None:
    creds = setup()
    otp_setup(creds)
    server = start_server()
    try:
        measure("live", creds)  # warm-up: imports, connections, caches
        status_prime(creds)
        stage("HTTP endpoints against /health/live")
        results, ratios = measure_http(creds)
        stage("end to end with a Celery worker")
        end_to_end = measure_end_to_end(creds, server)
    finally:
        stop_group(server, 15, later=QUICK)
    stage("django-phone-verify")
    phone_verify = measure_phone_verify()
    stopped()  # our server (its port) and worker (the queues flushed next) are gone
    django_setup()
    from apps.core.redis import get_redis

    for role in ("data", "broker", "results", "cache"):
        get_redis(role).flushdb()
    stage("monitor flush, abuse sweep, sends")
    flush = measure_flush()
    sweep = measure_sweep()
    sends = measure_sends(creds)
    stage("Redis outages, durability on receive")
    outage, durability = measure_redis_outage(creds), measure_receive_durability(creds)
    stage("Redis memory")
    memory = {"default_config": measure_memory(), "deploy_config": measure_memory_with_deploy_config()}
    report: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "setup": {
            "server": f"gunicorn, {WEB_WORKERS} gthread workers x {WEB_THREADS} threads",
            "load": "wrk -t1",
            "connections": CONNECTIONS,
            "seconds_each": DURATION,
            "live_seconds_each": LIVE_SECONDS,
            "rounds": ROUNDS,
            "quick": QUICK,
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },
        "http": results,
        "end_to_end": end_to_end,
        "monitor_flush": flush,
        "abuse_sweep": sweep,
        "redis_memory": memory,
        "notification_sends": sends,
        "redis_outage": outage,
        "receive_durability": durability,
        "phone_verify": phone_verify,
        "ratios": {
            **ratios,
            "otp_verify_vs_phone_verify": round(results["otp_verify"]["rps"] / phone_verify["rps"], 2),
        },
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    with HISTORY.open("a") as history:
        history.write(json.dumps(report, separators=(",", ":")) + "\n")
    from scripts.bench_plot import plot

    plot(report, HISTORY, RESULTS.with_suffix(".png"))
    if not QUICK:  # the figures docs/benchmark.md shows are the full run's
        from scripts.bench_report import main as report_write

        report_write()
    for kind, r in results.items():
        print(f"{kind:>11}: {r['rps']:>8.1f} req/s  ({r['requests']} requests, {r['errors']} errors)")
    for name, ratio in report["ratios"].items():
        print(f"{name}: {ratio}")
    print(
        f"monitor flush: {flush['flush_events_per_second']} events/s vs raw COPY "
        f"{flush['copy_rows_per_second']} rows/s (ratio {flush['flush_vs_copy']}; "
        f"{flush['flush_vs_copy_made_first']} against a COPY of CSV made first, the bench's "
        "floor before the streamed drain)"
    )
    print(
        f"abuse sweep: {sweep['offenders']} noted offenders in {sweep['noted_seconds']} s; full scan of "
        f"{sweep['counters']} counters in {sweep['seconds']} s"
    )
    e2e = end_to_end
    print(
        f"end to end: {e2e['sms_per_second']} SMS/s accepted and judged over {e2e['seconds']} s; at "
        f"{e2e['paced_rate']} SMS/s verdicts in {e2e['verdict_p50_ms']} ms p50, {e2e['verdict_p99_ms']} ms p99"
    )
    print(
        f"notification sends: {sends['sends_per_second']} /s through a local Android gateway API "
        f"({sends['notifications']} notifications, {sends['concurrency']} at once)"
    )
    for config, m in memory.items():
        print(
            f"redis memory ({config}): {m['bytes_per_pending_registration']} B per pending registration "
            f"({m['bytes_per_pending_registration_with_rate_limits']} B while its rate-limit state lives), "
            f"{m['mb_per_million_verified']} MB per million verified numbers; event history "
            f"{m['bytes_per_history_event']} B per event ({m['mb_event_history_at_its_bounds']} MB at its bounds)"
        )
    print(
        f"django-phone-verify verify: {phone_verify['rps']} req/s ({phone_verify['requests']} requests, "
        f"{phone_verify['errors']} errors)"
    )
    print_outage_and_durability(outage, durability)
    print(f"written to {RESULTS.relative_to(ROOT)}")
    if any(r["errors"] for r in (*results.values(), phone_verify, end_to_end)):
        raise SystemExit("bench: some requests failed; see the counts above")


ONLY_PARTS = ("http", "e2e", "instructions", "flush", "sweep", "sends", "outage", "durability", "memory")


def measure_with_server(creds: dict[str, str], part: str) -> dict[str, Any]:
    """``http`` (the endpoints against /health/live) or ``e2e`` (end to end with a Celery
    worker) on a server of their own, as ``main`` runs them."""
    if part == "http":
        otp_setup(creds)
    server = start_server()
    try:
        measure("live", creds)  # warm-up: imports, connections, caches
        if part == "e2e":
            return measure_end_to_end(creds, server)
        status_prime(creds)
        results, ratios = measure_http(creds)
    finally:
        stop_group(server, 15, later=QUICK)
    return {"ratios": ratios, "rps": {kind: figures["rps"] for kind, figures in results.items()}}


def main_only(parts: list[str]) -> None:
    """The background measurements named in ``--only``, each printed as JSON."""
    unknown = sorted(set(parts) - set(ONLY_PARTS))
    if unknown:
        raise SystemExit(f"bench: --only knows {', '.join(ONLY_PARTS)}, not {', '.join(unknown)}")
    if "instructions" in parts:  # a process of its own, under valgrind; makes its own client
        parts = [p for p in parts if p != "instructions"]
        stage("instructions")
        subprocess.run(["sh", str(ROOT / "scripts" / "ensure_valgrind.sh")], check=True)
        subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_instructions.py")], check=True)
        print((ROOT / "bench" / "instructions.json").read_text())
        if not parts:
            return
    creds = setup() if {"http", "e2e", "sends", "outage", "durability"} & set(parts) else {}
    for part in ("http", "e2e"):  # first: the others flush the Redis DBs its client is in
        if part in parts:
            parts = [p for p in parts if p != part]
            stage(part)
            print(json.dumps({part: measure_with_server(creds, part)}))
    django_setup()
    from django.core.management import call_command

    from apps.core.redis import get_redis

    call_command("migrate", "--noinput", "-v0")  # setup() migrates only when creds are made

    for role in ("data", "broker", "results", "cache"):
        get_redis(role).flushdb()
    runs: dict[str, Callable[[], Any]] = {
        "flush": measure_flush,
        "sweep": measure_sweep,
        "sends": lambda: measure_sends(creds),
        "outage": lambda: measure_redis_outage(creds),
        "durability": lambda: measure_receive_durability(creds),
        "memory": lambda: {
            "default_config": measure_memory(),
            "deploy_config": measure_memory_with_deploy_config(),
        },
    }
    for part in parts:
        stage(part)
        print(json.dumps({part: runs[part]()}))


if __name__ == "__main__":
    if ONLY:
        main_only(ONLY.split(","))
    else:
        main()
