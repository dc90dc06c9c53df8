"""The Celery app. Configuration lives in the top-level ``celeryconfig`` module."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smsbridge.settings")

app = Celery("smsbridge")
app.config_from_object("celeryconfig")
app.autodiscover_tasks()
