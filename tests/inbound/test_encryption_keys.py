"""SECRETS_ENCRYPTION_KEY: a list of Fernet keys, so the key itself can be rotated."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from apps.core.crypto import secret_decrypt, secret_encrypt
from apps.inbound.models import GatewaySecret
from tests.helpers import send_android

pytestmark = pytest.mark.django_db


def test_a_new_key_put_first_encrypts_while_the_old_one_still_decrypts(settings):
    old_key = settings.SECRETS_ENCRYPTION_KEYS[0]
    written_before = secret_encrypt("hmac-key")
    settings.SECRETS_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old_key]

    assert secret_decrypt(written_before) == "hmac-key"
    written_after = secret_encrypt("hmac-key")
    settings.SECRETS_ENCRYPTION_KEYS = settings.SECRETS_ENCRYPTION_KEYS[:1]
    assert secret_decrypt(written_after) == "hmac-key"
    with pytest.raises(RuntimeError, match="cannot be decrypted"):
        secret_decrypt(written_before)


def test_reencrypt_lets_the_old_key_be_retired(
    settings, api, make_gateway, django_capture_on_commit_callbacks
):
    gateway = make_gateway("android")
    new_key = Fernet.generate_key().decode()
    settings.SECRETS_ENCRYPTION_KEYS = [new_key, *settings.SECRETS_ENCRYPTION_KEYS]

    with django_capture_on_commit_callbacks(execute=True):
        call_command("gateway", "reencrypt")
    settings.SECRETS_ENCRYPTION_KEYS = [new_key]

    stored = GatewaySecret.objects.get(gateway_id=gateway.id).ciphertext
    assert Fernet(new_key).decrypt(stored.encode()).decode() == gateway.secret
    assert send_android(api, gateway, "+919876543210", "hi").status_code == 202


def test_settings_refuse_a_value_that_is_no_fernet_key():
    from apps.core.crypto import encryption_keys_check

    with pytest.raises(RuntimeError, match="key 2 is not a Fernet key"):
        encryption_keys_check([Fernet.generate_key().decode(), "not-a-key"])


def _settings_in_a_process(**env: str):
    import os
    import subprocess
    import sys

    from tests.processes import ROOT

    environ = {k: v for k, v in os.environ.items() if k != "SECRETS_ENCRYPTION_KEY"}
    environ |= {"DJANGO_SECRET_KEY": "k" * 64, "DJANGO_SETTINGS_MODULE": "smsbridge.settings", **env}
    code = "import smsbridge.settings as s; print(s.SECRETS_ENCRYPTION_KEYS[0])"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True)


def test_without_a_key_the_settings_refuse_to_start_outside_debug():
    result = _settings_in_a_process(DJANGO_DEBUG="0")

    assert result.returncode != 0
    assert "RuntimeError: SECRETS_ENCRYPTION_KEY must be set when DJANGO_DEBUG is off" in result.stderr


def test_in_debug_without_a_key_the_development_key_file_is_used():
    from tests.processes import ROOT

    result = _settings_in_a_process(DJANGO_DEBUG="1")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (ROOT / "var" / "dev_secrets.key").read_text().strip()


def test_the_development_key_is_made_once_and_then_reused(tmp_path):
    from apps.core.crypto import dev_key_load

    path = tmp_path / "var" / "dev_secrets.key"
    first = dev_key_load(path)

    assert dev_key_load(path) == first
    Fernet(first)  # a usable key
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in path.parent.iterdir()] == ["dev_secrets.key"]  # no file left aside
