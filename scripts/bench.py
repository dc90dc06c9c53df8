"""make bench: throughput of the hot path, measured as ratios in one run on this machine.

Starts the production web server (gunicorn) against a bench database and Redis DB
indexes of its own, drives it over loopback with keep-alive connections from a
separate process, and compares each endpoint with GET /health/live on the same server
in the same run (so the ratios, not the absolute numbers, are what to compare across
machines). Results go to bench/results.json.
"""

import functools
import http.client
import json
import multiprocessing as mp
import os
import platform
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # scripts.bench_phone_verify, and the apps once Django is set up
RESULTS = ROOT / "bench" / "results.json"
PORT = int(os.environ.get("BENCH_PORT", "8765"))
DURATION = float(os.environ.get("BENCH_SECONDS", "5"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
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
    manage("migrate", "--noinput", "-v0")
    manage("shell", "-c", BENCH_SETUP)
    # Client names are unique: each run brings its own client to the bench database.
    client = json.loads(manage("create_client", f"bench {datetime.now(UTC).isoformat()}", "--json"))
    gateway = json.loads(manage("create_gateway", "native", "bench", "--json"))
    manage("create_gateway", "console", f"bench console {datetime.now(UTC).isoformat()}", "--json")
    return {
        "api_key": client["api_key"],
        "gateway_token": gateway["secret"],
        "client_id": client["client_id"],
    }


BENCH_SETUP = """
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
        "--bind", f"127.0.0.1:{PORT}",
        "--workers", "2",
        "--log-level", "warning",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
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


def loader(kind: str, creds: dict[str, str], seed: int, threads: int, until: float, out: Any) -> None:
    import threading

    counts = [0] * threads
    errors = [0] * threads

    def run(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", int(creds.get("port", PORT)), timeout=10)
        n = seed * 10_000_000 + index * 1_000_000
        while time.time() < until:
            method, path, body, headers = request_for(kind, n, creds)
            n += 1
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status >= 400:
                errors[index] += 1
            counts[index] += 1

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.put((sum(counts), sum(errors)))


def measure(kind: str, creds: dict[str, str]) -> dict[str, float]:
    out: mp.Queue = mp.Queue()
    start = time.time()
    until = start + DURATION
    procs = [
        mp.Process(target=loader, args=(kind, creds, seed, CONNECTIONS // LOADERS, until, out))
        for seed in range(LOADERS)
    ]
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = time.time() - start
    total, errors = sum(r[0] for r in results), sum(r[1] for r in results)
    return {
        "requests": total,
        "errors": errors,
        "seconds": round(elapsed, 2),
        "rps": round(total / elapsed, 1),
    }


# --- one-time passwords, and django-phone-verify's verify beside ours ----------------------
OTP_KINDS = ("otp_request", "otp_verify", "phone_verify")
# Codes made before the verify run, per load connection: each verify spends one, so there
# must be more than a connection sends in BENCH_SECONDS (about 1,000 a second at most here).
OTP_CODES_PER_CONNECTION = 8000
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

        return verify_request(n, _phone_verify_pool(creds["pool"]), per_loader=CONNECTIONS // LOADERS)
    headers = {"Authorization": f"Bearer {creds['api_key']}", "Content-Type": "application/json"}
    if kind == "otp_request":  # a new number each time, as a sign-up form sends them
        payload = {"mobile_number": f"9{(n % 900_000_000) + 100_000_000}"}
        return "POST", "/otp/request", json.dumps(payload).encode(), headers
    payload = {"mobile_number": f"8{(n % 900_000_000) + 100_000_000}", "otp": f"{n % 1_000_000:06d}"}
    return "POST", "/otp/verify", json.dumps(payload).encode(), headers


def measure_phone_verify() -> dict[str, Any]:
    """django-phone-verify's verify endpoint, driven as ours is, on a server of its own."""
    from scripts.bench_phone_verify import prepare as phone_verify_prepare
    from scripts.bench_phone_verify import server_start as phone_verify_server_start

    url, pool = phone_verify_prepare(BENCH_ENV["DATABASE_URL"], connections=CONNECTIONS)
    port = free_port()
    server = phone_verify_server_start(url, port)
    try:
        creds = {"port": str(port), "pool": json.dumps(pool)}
        measure("phone_verify", creds)  # warm-up, as for ours
        run = measure("phone_verify", creds)
    finally:
        server.terminate()
        server.wait(timeout=15)
    return {**run, "codes_in_table": len(pool)}


# --- background work, measured in-process against the same PostgreSQL and Redis ---------
FLUSH_EVENTS = int(os.environ.get("BENCH_FLUSH_EVENTS", "50000"))
SWEEP_COUNTERS = int(os.environ.get("BENCH_SWEEP_COUNTERS", "1000000"))


def django_setup() -> None:
    os.environ.update(BENCH_ENV)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def measure_flush() -> dict[str, float]:
    """Monitor-event flush rate (Redis -> PostgreSQL) beside a raw COPY of the same rows."""
    from django.db import connection

    from apps.audit import services as audit
    from apps.audit.events import monitor_event
    from apps.audit.models import MonitorEvent
    from apps.audit.payloads import MonitorEventRecord
    from apps.core import keys
    from apps.core.bulk import csv_buffer
    from apps.core.redis import get_redis

    events = [
        monitor_event(
            status="invalid", mobile=f"98{n:08d}", reason="header_hash", check_results={"mobile": 1}
        )
        for n in range(FLUSH_EVENTS)
    ]
    now = datetime.now(UTC).isoformat()
    rows = [audit._row(MonitorEventRecord.from_json(e), now) for e in events]
    table = MonitorEvent._meta.db_table
    cols = ", ".join(audit.COLUMNS)
    copy_rates, flush_rates = [], []
    for _ in range(3):
        MonitorEvent.objects.all().delete()
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.copy_expert(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv)", csv_buffer(rows))
        copy_rates.append(FLUSH_EVENTS / (time.perf_counter() - started))

        MonitorEvent.objects.all().delete()
        r = get_redis()
        for start in range(0, FLUSH_EVENTS, 5000):
            r.lpush(keys.sms_monitor_queue(), *events[start : start + 5000])
        started = time.perf_counter()
        flushed = audit.monitor_flush()
        flush_rates.append(flushed / (time.perf_counter() - started))
        if not flushed == FLUSH_EVENTS == MonitorEvent.objects.count():
            raise SystemExit("bench: the flush lost or duplicated events")
    MonitorEvent.objects.all().delete()
    copy_rate, flush_rate = max(copy_rates), max(flush_rates)
    return {
        "events": FLUSH_EVENTS,
        "copy_rows_per_second": round(copy_rate),
        "flush_events_per_second": round(flush_rate),
        "flush_vs_copy": round(flush_rate / copy_rate, 3),
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
    started = time.perf_counter()
    added = abuse_sweep()
    seconds = time.perf_counter() - started
    if added != SWEEP_COUNTERS // 100:
        raise SystemExit(f"bench: the sweep found {added} offenders, not {SWEEP_COUNTERS // 100}")
    r.flushdb()
    return {"counters": SWEEP_COUNTERS, "offenders": added, "seconds": round(seconds, 2)}


SEND_NOTIFICATIONS = int(os.environ.get("BENCH_SEND_NOTIFICATIONS", "2000"))
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


MEMORY_REGISTRATIONS = int(os.environ.get("BENCH_MEMORY_REGISTRATIONS", "20000"))
MEMORY_VERIFIED = int(os.environ.get("BENCH_MEMORY_VERIFIED", "200000"))


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


def wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"bench: nothing listens on port {port}")


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
    status, first = _timed_get("/onboard/register/9876543210", auth)
    after = sorted(_timed_get("/onboard/register/9876543210", auth)[1] for _ in range(OUTAGE_REQUESTS))
    health = sorted(_timed_get("/health", {})[1] for _ in range(10))
    return {
        "first_status": status,
        "first_ms": round(first, 1),
        "then_median_ms": round(after[len(after) // 2], 2),
        "then_max_ms": round(after[-1], 2),
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
        server = server_on_redis(redis_port, workers=1)
        try:
            _timed_get("/onboard/register/9876543210", auth)  # warm: mirrors rebuilt, caches filled
            os.kill(redis_proc.pid, signal.SIGSTOP)
            figures["stopped"] = _outage_figures(auth)
            os.kill(redis_proc.pid, signal.SIGCONT)
            redis_proc.kill()
            redis_proc.wait(timeout=10)
            time.sleep(2.5)  # past the breaker's open period: the first request asks again
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
                primary, port = private_redis(base, "--appendonly", "yes", "--appendfsync", fsync)
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
                    measure("receive", creds)  # warm-up
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
            f"{f['then_median_ms']} ms median, {f['then_max_ms']} ms max; /health at most {f['health_max_ms']} ms"
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
        results = {kind: measure(kind, creds) for kind in ("live", "register", "receive", "notify")}
        results.update({kind: measure(kind, creds) for kind in ("otp_request", "otp_verify")})
    finally:
        server.terminate()
        server.wait(timeout=15)
    phone_verify = measure_phone_verify()
    django_setup()
    from apps.core.redis import get_redis

    for role in ("data", "broker", "results", "cache"):
        get_redis(role).flushdb()
    flush = measure_flush()
    sweep = measure_sweep()
    sends = measure_sends(creds)
    outage, durability = measure_redis_outage(creds), measure_receive_durability(creds)
    memory = {"default_config": measure_memory(), "deploy_config": measure_memory_with_deploy_config()}
    live = results["live"]["rps"]
    report: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "setup": {"server": "gunicorn, 2 sync workers", "connections": CONNECTIONS, "seconds_each": DURATION},
        "http": results,
        "monitor_flush": flush,
        "abuse_sweep": sweep,
        "redis_memory": memory,
        "notification_sends": sends,
        "redis_outage": outage,
        "receive_durability": durability,
        "phone_verify": phone_verify,
        "ratios": {
            "register_vs_live": round(results["register"]["rps"] / live, 3),
            "receive_vs_live": round(results["receive"]["rps"] / live, 3),
            "notify_vs_live": round(results["notify"]["rps"] / live, 3),
            "otp_request_vs_live": round(results["otp_request"]["rps"] / live, 3),
            "otp_verify_vs_live": round(results["otp_verify"]["rps"] / live, 3),
            "otp_verify_vs_phone_verify": round(results["otp_verify"]["rps"] / phone_verify["rps"], 2),
        },
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    for kind, r in results.items():
        print(f"{kind:>9}: {r['rps']:>8.1f} req/s  ({r['requests']} requests, {r['errors']} errors)")
    for name, ratio in report["ratios"].items():
        print(f"{name}: {ratio}")
    print(
        f"monitor flush: {flush['flush_events_per_second']} events/s vs raw COPY "
        f"{flush['copy_rows_per_second']} rows/s (ratio {flush['flush_vs_copy']})"
    )
    print(
        f"abuse sweep: {sweep['counters']} counters in {sweep['seconds']} s ({sweep['offenders']} offenders)"
    )
    print(
        f"notification sends: {sends['sends_per_second']} /s through a local Android gateway API "
        f"({sends['notifications']} notifications, {sends['concurrency']} at once)"
    )
    for config, m in memory.items():
        print(
            f"redis memory ({config}): {m['bytes_per_pending_registration']} B per pending registration "
            f"({m['bytes_per_pending_registration_with_rate_limits']} B while its rate-limit state lives), "
            f"{m['mb_per_million_verified']} MB per million verified numbers"
        )
    print(
        f"django-phone-verify verify: {phone_verify['rps']} req/s ({phone_verify['requests']} requests, "
        f"{phone_verify['errors']} errors)"
    )
    print_outage_and_durability(outage, durability)
    print(f"written to {RESULTS.relative_to(ROOT)}")
    if any(r["errors"] for r in (*results.values(), phone_verify)):
        raise SystemExit("bench: some requests failed; see the counts above")


if __name__ == "__main__":
    main()
