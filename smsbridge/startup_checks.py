"""Refuse to start outside debug with a secret the whole world knows.

A placeholder copied from deploy/env.example, Django's "insecure" development key, or a
key short enough to guess signs sessions, CSRF tokens and password resets that anyone
can forge; Flower with ``admin:admin`` hands every task and worker to the first visitor.
Both are caught before the process serves anything: the settings check the secret key,
flowerconfig.py the Flower credentials.

Plain functions without Django imports, so the settings module can use them.
"""

MIN_SECRET_KEY_LENGTH = 50
MIN_FLOWER_PASSWORD_LENGTH = 12
# Words that only appear in keys and passwords nobody meant to keep.
PLACEHOLDER_WORDS = ("change-me", "changeme", "change_me", "insecure", "dev-only", "example", "placeholder")
WEAK_PASSWORDS = {"admin", "password", "flower", "secret", "root", "test", "guest", "user"}


def secret_key_problem(key: str) -> str | None:
    """Why ``key`` must not be DJANGO_SECRET_KEY outside debug, or None when it may."""
    if not key:
        return "is not set"
    if _placeholder(key):
        return "is a placeholder (it contains one of: " + ", ".join(PLACEHOLDER_WORDS) + ")"
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return f"is {len(key)} characters long; use at least {MIN_SECRET_KEY_LENGTH}"
    return None


def flower_auth_problem(credentials: list[str]) -> str | None:
    """Why Flower's basic auth (``user:password`` entries) must not be used outside debug."""
    entries = [entry.strip() for entry in credentials if entry and entry.strip()]
    if not entries:
        return "is not set"
    for entry in entries:
        user, sep, password = entry.partition(":")
        if not sep or not user or not password:
            return f"entry for {user or '?'!r} is not user:password"
        if _placeholder(password) or password.lower() in WEAK_PASSWORDS | {user.lower()}:
            return f"password of {user!r} is a placeholder"
        if len(password) < MIN_FLOWER_PASSWORD_LENGTH:
            return f"password of {user!r} is shorter than {MIN_FLOWER_PASSWORD_LENGTH} characters"
    return None


def _placeholder(value: str) -> bool:
    lowered = value.lower()
    return any(word in lowered for word in PLACEHOLDER_WORDS)
