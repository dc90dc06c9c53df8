"""Flower's configuration file, run by every ``celery -A smsbridge flower --conf=./flowerconfig.py``.

Flower executes it after reading its command line and FLOWER_* variables, before it
listens. Outside debug it stops Flower when the basic auth is missing or a placeholder
(admin:admin, admin:change-me, a short password): Flower shows every task's arguments
and can shut workers down.
"""

from django.conf import settings
from tornado.options import options

from smsbridge.startup_checks import flower_auth_problem

_problem = flower_auth_problem(list(options.basic_auth or []))
if _problem and not settings.DEBUG:
    raise SystemExit(
        f"Flower refuses to start: FLOWER_BASIC_AUTH {_problem}. "
        "Set user:password with a real password of 12 or more characters (or DJANGO_DEBUG=1 for development)."
    )
