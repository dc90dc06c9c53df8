"""django-phone-verify, the comparison for POST /otp/verify in make bench.

django-phone-verify is the maintained Django app for the same job (a code sent by SMS,
checked by an endpoint). This module installs it in a virtualenv of its own under var/
(its pins are not the bridge's), writes the smallest Django project that serves its
``POST /api/phone/verify`` with the library's defaults, runs it under gunicorn with the
bench's server settings (the same gthread workers and threads, an access log, debug off,
PostgreSQL with the same connection reuse) and hands scripts/bench.py what its load processes need: the port and a pool of
codes created through the library's own backend. The bench drives it exactly as it
drives the bridge, and reports the ratio.

The library keeps its codes in PostgreSQL (table ``sms_verification``) and a verify reads
and updates one row; with its default VERIFY_SECURITY_CODE_ONLY_ONCE (off) a code can
be verified again, so the pool is reused round-robin and every request takes the same
successful path.
"""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "var" / "bench-phone-verify"
PROJECT = VENV / "project"
# The library and the versions the bridge itself runs (requirements/), so that only the
# verification code differs between the two servers.
PACKAGES = [
    "django-phone-verify==3.3.0",
    "Django==5.2.19",
    "djangorestframework==3.18.3",
    "gunicorn==27.0.1",
    "psycopg2-binary==2.9.13",
]
POOL_PER_CONNECTION = 1000  # codes in the table: 1,000 per load connection

SETTINGS = """
import os
SECRET_KEY = os.environ["PV_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
    "phone_verify",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]
ROOT_URLCONF = "pvproject.urls"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ["PV_DB_NAME"],
        "USER": os.environ["PV_DB_USER"],
        "PASSWORD": os.environ.get("PV_DB_PASSWORD", ""),
        "HOST": os.environ["PV_DB_HOST"],
        "PORT": os.environ["PV_DB_PORT"],
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
}
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
REST_FRAMEWORK = {"DEFAULT_AUTHENTICATION_CLASSES": [], "UNAUTHENTICATED_USER": None}
PHONE_VERIFICATION = {
    "BACKEND": "pvproject.backend.QuietBackend",
    "OPTIONS": {},
    "TOKEN_LENGTH": 6,
    "MESSAGE": "Your code is {security_code}",
    "APP_NAME": "bench",
    "SECURITY_CODE_EXPIRATION_TIME": 3600,
    "VERIFY_SECURITY_CODE_ONLY_ONCE": False,
}
"""
URLS = """
from django.urls import include, path
urlpatterns = [path("api/", include("phone_verify.urls"))]
"""
WSGI = """
import os
from django.core.wsgi import get_wsgi_application
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pvproject.settings")
application = get_wsgi_application()
"""
# The library's base backend with sending left out: the bench measures the verify.
BACKEND = """
from phone_verify.backends.base import BaseBackend
class QuietBackend(BaseBackend):
    def send_sms(self, number, message):
        return None
    def send_bulk_sms(self, numbers, message):
        return None
"""
MANAGE = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pvproject.settings")
from django.core.management import execute_from_command_line
execute_from_command_line(sys.argv)
"""
# Codes made by the library's own backend (its JWT session tokens, its rows), written as JSON.
MAKE_CODES = """
import json, os
from phone_verify.backends import get_sms_backend
from phone_verify.models import SMSVerification
SMSVerification.objects.all().delete()
backend = get_sms_backend(phone_number=None)
pool = []
with open(os.environ["PV_NUMBERS"]) as numbers:
    numbers = json.load(numbers)
for number in numbers:
    code, token = backend.create_security_code_and_session_token(number)
    pool.append([number, token, code])
with open(os.environ["PV_POOL_OUT"], "w") as out:
    json.dump(pool, out)
"""


def _python() -> Path:
    return VENV / "bin" / "python"


def venv_ensure() -> None:
    """The virtualenv with the library, made once (pip's own client, from PyPI)."""
    marker = VENV / "installed.json"
    if marker.exists() and json.loads(marker.read_text()) == PACKAGES:
        return
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(_python()), "-m", "pip", "install", "-q", *PACKAGES], check=True)
    marker.write_text(json.dumps(PACKAGES))


def project_write() -> None:
    package = PROJECT / "pvproject"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    for name, text in {"settings": SETTINGS, "urls": URLS, "wsgi": WSGI, "backend": BACKEND}.items():
        (package / f"{name}.py").write_text(text.lstrip())
    (PROJECT / "manage.py").write_text(MANAGE.lstrip())


def database_url(bench_url: str) -> str:
    """The bench's PostgreSQL server, in a database of its own (``<bench db>_phone_verify``)."""
    parts = urlsplit(bench_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "_phone_verify"))


def _env(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    return {
        **os.environ,
        "PV_SECRET_KEY": "bench-phone-verify-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "PV_DB_NAME": parts.path.lstrip("/"),
        "PV_DB_USER": parts.username or "postgres",
        "PV_DB_PASSWORD": parts.password or "",
        "PV_DB_HOST": parts.hostname or "127.0.0.1",
        "PV_DB_PORT": str(parts.port or 5432),
        "PYTHONPATH": str(PROJECT),
    }


def database_ensure(url: str) -> None:
    import psycopg2

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    connection = psycopg2.connect(admin)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def _manage(url: str, *args: str, env: dict[str, str] | None = None) -> str:
    return subprocess.run(
        [str(_python()), "manage.py", *args],
        cwd=PROJECT,
        env={**_env(url), **(env or {})},
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def prepare(
    bench_database_url: str, *, connections: int, per_connection: int = POOL_PER_CONNECTION
) -> tuple[str, list[list[str]]]:
    """Install, migrate and fill the library's table; returns its database URL and the
    pool of ``[phone_number, session_token, security_code]``, ``per_connection`` codes for
    each load connection."""
    venv_ensure()
    project_write()
    url = database_url(bench_database_url)
    database_ensure(url)
    _manage(url, "migrate", "--noinput", "-v0")
    numbers = [f"+9197{n:08d}" for n in range(per_connection * connections)]
    numbers_file, out = VENV / "numbers.json", VENV / "pool.json"
    numbers_file.write_text(json.dumps(numbers))
    _manage(url, "shell", "-c", MAKE_CODES, env={"PV_NUMBERS": str(numbers_file), "PV_POOL_OUT": str(out)})
    return url, json.loads(out.read_text())


def server_start(url: str, port: int, *, workers: int, threads: int) -> subprocess.Popen:
    """gunicorn as the bridge's bench server runs: the same gthread workers and threads
    (so the same keep-alive connections) and an access log line per request, written to a
    pipe nobody reads, as the bridge's is. (Its access-log class is the bridge's own code,
    so this one writes gunicorn's default line.)"""
    cmd = [
        str(VENV / "bin" / "gunicorn"),
        "pvproject.wsgi:application",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers),
        "--threads", str(threads),
        "--access-logfile", "-",
        "--log-level", "warning",
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=PROJECT, env=_env(url), start_new_session=True, stdout=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit("bench: django-phone-verify's gunicorn did not start")


def verify_request(
    n: int, pool: list[list[str]], *, per_loader: int, per_connection: int = POOL_PER_CONNECTION
) -> tuple[str, str, bytes, dict[str, str]]:
    """The verify of request ``n`` of the bench's numbering (loader * 10^7 + thread * 10^6 +
    count): each connection cycles through codes of its own, so no two workers ever
    update the same row at once (that would measure lock waits, not the library)."""
    connection = (n // 10_000_000) * per_loader + (n // 1_000_000) % 10
    slot = (connection * per_connection + n % per_connection) % len(pool)
    phone_number, session_token, security_code = pool[slot]
    body = {"phone_number": phone_number, "session_token": session_token, "security_code": security_code}
    return "POST", "/api/phone/verify", json.dumps(body).encode(), {"Content-Type": "application/json"}
