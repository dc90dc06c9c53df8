"""The Celery app. Configuration lives in the top-level ``celeryconfig`` module."""

import faulthandler
import os
import signal

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smsbridge.settings")
# SIGUSR2 prints every thread's stack to stderr: how to see where a stuck worker or
# beat is waiting, without stopping it.
faulthandler.register(signal.SIGUSR2, all_threads=True)

app = Celery("smsbridge")
app.config_from_object("celeryconfig")
app.autodiscover_tasks()
