"""The Celery app, configured from Django settings as in Celery's Django guide."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "raceapp.settings")

app = Celery("raceapp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
