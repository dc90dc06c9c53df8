"""Secrets at rest: SHA-256 for bearer tokens, Fernet for secrets the bridge must use.

A bearer token (native gateway token, Jasmin ``?token=``, API key) is only ever
compared, so only its hash is kept. An HMAC key (SMS Gateway for Android), a Twilio
auth token or a client's webhook secret must be used in plain text to compute or check
a signature, so it is encrypted with the Fernet keys of SECRETS_ENCRYPTION_KEY: the
first key encrypts, every key decrypts, so a new key can be put in front of the old one
and the old one dropped once nothing is encrypted with it any more.
"""

import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

HINT_LENGTH = 4  # characters of a secret the admin may show, to tell secrets apart


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def secret_hint(secret: str) -> str:
    return secret[-HINT_LENGTH:]


def secret_encrypt(plain: str) -> str:
    return _fernet(tuple(settings.SECRETS_ENCRYPTION_KEYS)).encrypt(plain.encode()).decode()


def secret_decrypt(ciphertext: str) -> str:
    try:
        return _fernet(tuple(settings.SECRETS_ENCRYPTION_KEYS)).decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        # Not a bad request: the keys in the environment do not match the data.
        raise RuntimeError(
            "A stored secret cannot be decrypted with SECRETS_ENCRYPTION_KEY: was a key removed "
            "that secrets are still encrypted with?"
        ) from exc


def secret_reencrypt(ciphertext: str) -> str:
    """The same secret encrypted with the first key (to retire an older key)."""
    return _fernet(tuple(settings.SECRETS_ENCRYPTION_KEYS)).rotate(ciphertext.encode()).decode()


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def encryption_keys_check(keys: list[str]) -> list[str]:
    """``keys`` when every one is a Fernet key; a RuntimeError naming the problem if not."""
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError) as exc:
            raise RuntimeError(
                f"SECRETS_ENCRYPTION_KEY: key {position} is not a Fernet key (32 url-safe "
                "base64-encoded bytes; make one with `python -c 'from cryptography.fernet import "
                "Fernet; print(Fernet.generate_key().decode())'`)"
            ) from exc
    return keys


def dev_key_load(path: Path) -> str:
    """The development key in ``path``, created on first use.

    Written aside and hard-linked into place, so processes starting together (web,
    worker, beat under honcho) all end up with the one key that won, never a half file.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        aside = path.with_name(f".{path.name}.{os.getpid()}")
        aside.write_bytes(Fernet.generate_key())
        aside.chmod(0o600)
        try:
            os.link(aside, path)
        except FileExistsError:
            pass  # another process created it first: use theirs
        finally:
            aside.unlink()
    return path.read_text().strip()


class EncryptedTextField(models.TextField):
    """A text column that holds Fernet ciphertext and reads back as plain text.

    For secrets the code must use in plain (a webhook signing secret). Encryption is
    not deterministic, so the column cannot be filtered on.
    """

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        return value if not value else secret_decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return value if not value else secret_encrypt(value)
