"""Hardened defaults: debug off, start refused with known secrets, secure cookies behind the
proxy, /metrics closed unless configured, weakened validation refused, extensions refused,
formatted numbers masked."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from apps.core.exceptions import ApplicationError
from apps.core.logging import mask_mobiles
from apps.core.phone import mobile_parse
from apps.core.system_settings import (
    system_setting_set,
    system_setting_validate,
    system_settings_get,
    system_settings_invalidate,
)
from smsbridge.startup_checks import flower_auth_problem, secret_key_problem
from tests.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k3Yp-9vQ2xR7tL1mN8bC4dF6gH0jS5aW3eZ2uI7oP9yT1rE4qX6vB8nM0lK2jH5g"


def start_django(
    *, code: str = "import django; django.setup()", **env: str | None
) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with the production settings and ``env`` (None: unset)."""
    full = {**os.environ, "DJANGO_SETTINGS_MODULE": "smsbridge.settings"}
    for name, value in env.items():
        if value is None:
            full.pop(name, None)
        else:
            full[name] = value
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=full, capture_output=True, text=True, timeout=60
    )


# --- DJANGO_SECRET_KEY and DJANGO_DEBUG ----------------------------------------------------
@pytest.mark.parametrize(
    "key",
    [
        "",
        "short-but-random-9f8e7d",
        "change-me-to-a-long-random-string-0123456789abcdefghijklmnopqrstuvwxyz",
        "django-insecure-" + "x7" * 30,
        "dev-only-insecure-secret-key-change-me",
        "an-example-key-that-is-long-enough-to-pass-the-length-check-0123456789",
    ],
)
def test_processes_refuse_to_start_outside_debug_with_a_placeholder_or_short_secret_key(key):
    result = start_django(DJANGO_DEBUG="0", DJANGO_SECRET_KEY=key)

    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY" in result.stderr


def test_manage_py_check_refuses_a_weak_key_with_a_clear_message():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "smsbridge.settings", "DJANGO_DEBUG": "0"}
    env["DJANGO_SECRET_KEY"] = "change-me"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is a placeholder" in result.stderr


@pytest.mark.slow  # starts Celery, gunicorn or Flower
@pytest.mark.parametrize(
    "command",
    [
        ["-m", "celery", "-A", "smsbridge", "worker", "-Q", "celery"],
        ["-m", "celery", "-A", "smsbridge", "beat"],
        ["-m", "gunicorn", "smsbridge.wsgi:application", "--config", "python:smsbridge.gunicorn_conf"],
    ],
    ids=["worker", "beat", "web"],
)
def test_worker_beat_and_web_refuse_a_placeholder_key(command):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "smsbridge.settings", "DJANGO_DEBUG": "0"}
    env["DJANGO_SECRET_KEY"] = "change-me-to-a-long-random-string"
    args = [*command, "--bind", f"127.0.0.1:{free_port()}"] if "gunicorn" in command else command
    result = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY is a placeholder" in result.stdout + result.stderr


def test_debug_is_off_unless_asked_for():
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    result = start_django(code=code, DJANGO_DEBUG=None, DJANGO_SECRET_KEY=GOOD_KEY)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_without_debug_or_key_nothing_starts():
    result = start_django(DJANGO_DEBUG=None, DJANGO_SECRET_KEY=None)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_a_long_random_key_starts_and_debug_still_allows_the_development_key():
    assert start_django(DJANGO_DEBUG="0", DJANGO_SECRET_KEY=GOOD_KEY).returncode == 0
    assert start_django(DJANGO_DEBUG="1", DJANGO_SECRET_KEY=None).returncode == 0


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "is not set"),
        ("x" * 49, "49 characters"),
        ("Change-Me" + "x" * 60, "placeholder"),
        (GOOD_KEY, None),
    ],
)
def test_secret_key_problems_are_named(key, problem):
    found = secret_key_problem(key)

    assert (found is None) if problem is None else (problem in str(found))


# --- Flower --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("credentials", "problem"),
    [
        ([], "is not set"),
        ([""], "is not set"),
        (["admin:admin"], "placeholder"),
        (["admin:change-me"], "placeholder"),
        (["ops:password"], "placeholder"),
        (["ops:ops"], "placeholder"),
        (["ops:short"], "shorter than 12"),
        (["ops"], "not user:password"),
        (["ops:Vq7-LongEnough-2x", "admin:admin"], "placeholder"),
        (["ops:Vq7-LongEnough-2x"], None),
    ],
)
def test_flower_credentials_problems_are_named(credentials, problem):
    found = flower_auth_problem(credentials)

    assert (found is None) if problem is None else (problem in str(found))


def run_flower(basic_auth: str | None, timeout: float = 60, **env: str) -> subprocess.CompletedProcess:
    args = [sys.executable, "-m", "celery", "-A", "smsbridge", "flower", "--conf=./flowerconfig.py"]
    args += [f"--port={free_port()}", "--address=127.0.0.1"]
    if basic_auth is not None:
        args.append(f"--basic-auth={basic_auth}")
    full = {**os.environ, "DJANGO_SECRET_KEY": GOOD_KEY, **env}
    full.pop("FLOWER_BASIC_AUTH", None)
    return subprocess.run(args, cwd=ROOT, env=full, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow  # starts Celery, gunicorn or Flower
@pytest.mark.parametrize("basic_auth", [None, "admin:admin", "admin:change-me"])
def test_flower_refuses_to_start_outside_debug_with_placeholder_credentials(basic_auth):
    result = run_flower(basic_auth, DJANGO_DEBUG="0")

    assert result.returncode != 0
    assert "Flower refuses to start: FLOWER_BASIC_AUTH" in result.stderr


@pytest.mark.slow  # starts Celery, gunicorn or Flower
def test_flower_starts_with_real_credentials(tmp_path):
    port = free_port()
    args = [sys.executable, "-m", "celery", "-A", "smsbridge", "flower", "--conf=./flowerconfig.py"]
    args += [f"--port={port}", "--address=127.0.0.1", "--basic-auth=ops:Vq7-LongEnough-2x"]
    env = {**os.environ, "DJANGO_SECRET_KEY": GOOD_KEY, "DJANGO_DEBUG": "0"}
    log = (tmp_path / "flower.log").open("w")
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        import urllib.request

        from tests.polling import wait_for

        def answers() -> bool:
            try:
                return urllib.request.urlopen(f"http://127.0.0.1:{port}/healthcheck", timeout=1).status == 200
            except OSError:
                return proc.poll() is not None  # stop waiting if it died

        wait_for(answers, timeout=60, message="Flower to listen")
        assert proc.poll() is None, (tmp_path / "flower.log").read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=15)


# --- behind the proxy ---------------------------------------------------------------------
PROXY_PROBE = """
import django, json
django.setup()
from django.conf import settings
from django.test import Client
c = Client()
print(json.dumps({
    "session": settings.SESSION_COOKIE_SECURE, "csrf": settings.CSRF_COOKIE_SECURE,
    "redirect": settings.SECURE_SSL_REDIRECT,
    "live": c.get("/health/live").status_code,
    "api": c.get("/onboard/register/9876543210").status_code,
    "api_location": c.get("/onboard/register/9876543210")["Location"],
    "https_api": c.get("/onboard/register/9876543210", headers={"X-Forwarded-Proto": "https"}).status_code,
}))
"""


def test_behind_the_proxy_cookies_are_secure_and_http_is_redirected_except_health():
    import json

    result = start_django(
        code=PROXY_PROBE, DJANGO_DEBUG="0", DJANGO_SECRET_KEY=GOOD_KEY, DJANGO_BEHIND_PROXY="1"
    )

    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["session"] is True and seen["csrf"] is True and seen["redirect"] is True
    assert seen["live"] == 200  # probes call the pod over plain HTTP
    assert seen["api"] == 301 and seen["api_location"].startswith("https://")
    assert seen["https_api"] == 401  # through the proxy: no redirect, the API answers


# --- /metrics ------------------------------------------------------------------------------
@pytest.mark.django_db
def test_metrics_are_refused_without_a_token_or_public_flag_outside_debug(api, settings):
    settings.METRICS_TOKEN, settings.METRICS_PUBLIC, settings.DEBUG = "", False, False

    response = api.get("/metrics")

    assert response.status_code == 403
    assert response.json() == {
        "detail": "Metrics are not published: set METRICS_TOKEN (or METRICS_PUBLIC=1).",
        "code": "metrics_not_configured",
    }


@pytest.mark.django_db
def test_metrics_with_a_token_need_that_bearer_token(api, settings):
    settings.METRICS_TOKEN, settings.METRICS_PUBLIC = "scrape-secret", True  # the token wins

    assert api.get("/metrics").status_code == 401
    assert api.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").json()["code"] == "not_authenticated"
    assert api.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(("public", "debug"), [(True, False), (False, True)])
def test_metrics_are_open_when_public_or_in_debug(api, settings, public, debug):
    settings.METRICS_TOKEN, settings.METRICS_PUBLIC, settings.DEBUG = "", public, debug

    assert api.get("/metrics").status_code == 200


# --- numbers with extensions ----------------------------------------------------------------
EXTENSIONS = ["9876543210 ext 5", "+919876543210;ext=5", "9876543210 x5", "+91 98765 43210 #5"]


@pytest.mark.parametrize("raw", EXTENSIONS)
def test_numbers_with_an_extension_are_refused(raw):
    with pytest.raises(ApplicationError) as caught:
        mobile_parse(raw)

    assert caught.value.code == "invalid_mobile_number"
    assert "extension" in caught.value.detail


@pytest.mark.django_db
@pytest.mark.parametrize("raw", EXTENSIONS)
def test_register_refuses_a_number_with_an_extension(api, client_creds, raw):
    from urllib.parse import quote

    response = api.get(f"/onboard/register/{quote(raw)}", **client_creds.auth)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_mobile_number"


# --- settings that weaken the pipeline ----------------------------------------------------------
WEAKENING = [
    ("check_sequence", ["foreign_number", "blacklist", "duplicate", "header_hash", "time_window"], "mobile"),
    ("check_sequence", ["mobile", "duplicate", "header_hash"], "blacklist"),
    ("check_sequence", ["mobile", "blacklist", "header_hash"], "duplicate"),
    ("check_sequence", ["mobile", "blacklist", "duplicate"], "header_hash"),
    ("check_enabled", {"header_hash": False}, "header_hash"),
    ("check_enabled", {"mobile": False, "duplicate": False}, "mobile, duplicate"),
    ("salt_length", 8, "at least 16"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("key", "value", "named"), WEAKENING)
def test_settings_that_weaken_the_pipeline_are_refused_outside_debug(key, value, named, settings):
    settings.DEBUG = False
    before = system_settings_get()

    with pytest.raises(ApplicationError) as caught:
        system_setting_set(key=key, value=value)

    assert caught.value.code == "invalid_setting"
    assert named in caught.value.detail
    system_settings_invalidate()
    assert system_settings_get() == before  # nothing was stored


@pytest.mark.django_db
@pytest.mark.parametrize(("key", "value", "named"), WEAKENING)
def test_debug_may_weaken_the_pipeline_for_development(key, value, named, settings):
    settings.DEBUG = True

    assert system_setting_validate(key=key, value=value) == value


def test_optional_checks_may_still_be_switched_off_outside_debug(settings):
    settings.DEBUG = False

    assert system_setting_validate(key="check_enabled", value={"time_window": False, "foreign_number": False})
    assert system_setting_validate(
        key="check_sequence", value=["mobile", "blacklist", "duplicate", "header_hash"]
    )
    assert system_setting_validate(key="salt_length", value=32) == 32


# --- masking formatted numbers ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("from +91 98765 43210 ok", "from +** ***** *3210 ok"),
        ("from 98765-43210 ok", "from *****-*3210 ok"),
        ("call (987) 654-3210 now", "call (***) ***-3210 now"),
        ("+1 (415) 555-0123", "+* (***) ***-0123"),
        ("dial 98765 43210", "dial ***** *3210"),
        ("2026-11-21 22:54:01,123 INFO", "2026-11-21 22:54:01,123 INFO"),  # a date stays a date
        ('"GET /x HTTP/1.1" 200 48213 12ms', '"GET /x HTTP/1.1" 200 48213 12ms'),
        ("uuid 123e4567-e89b-12d3-a456-426614174000", "uuid 123e4567-e89b-12d3-a456-426614174000"),
    ],
)
def test_formatted_numbers_are_masked_too(text, masked):
    assert mask_mobiles(text) == masked


# --- the admin login lockout (django-axes) ---------------------------------------------------------
@pytest.fixture
def operator(django_user_model):
    return django_user_model.objects.create_superuser("ops", "ops@example.com", "Correct-Horse-9")


def admin_login(client, password: str, address: str = "203.0.113.5"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": "ops", "password": password},
        REMOTE_ADDR=address,
    )


@pytest.mark.django_db
def test_the_admin_login_locks_a_username_and_address_after_five_failures(client, operator, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert admin_login(client, "wrong").status_code == 200  # the form again, with an error

    locked = admin_login(client, "wrong")

    assert locked.status_code == 429
    assert admin_login(client, "Correct-Horse-9").status_code == 429  # even the right password
    assert admin_login(client, "Correct-Horse-9", address="198.51.100.7").status_code == 302  # elsewhere


@pytest.mark.django_db
def test_a_successful_login_resets_the_failure_count(client, operator, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        admin_login(client, "wrong")

    assert admin_login(client, "Correct-Horse-9").status_code == 302
    client.logout()
    assert admin_login(client, "wrong").status_code == 200  # counting starts again


@pytest.mark.django_db
def test_behind_the_proxy_the_lockout_keys_on_the_address_the_proxy_saw(client, operator, settings):
    settings.BEHIND_PROXY = True
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            "/admin/login/",
            {"username": "ops", "password": "wrong"},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_REAL_IP="203.0.113.5",
        )

    other_client = client.post(
        "/admin/login/",
        {"username": "ops", "password": "Correct-Horse-9"},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_REAL_IP="198.51.100.7",
    )
    assert other_client.status_code == 302  # same proxy, another client: not locked out
