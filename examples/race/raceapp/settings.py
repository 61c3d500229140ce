"""Settings of the race demo project.

The database is a SQLite file whose path ``demo.py`` passes in
``RACE_DEMO_DB`` (a fresh temporary directory per run); ``demo.py`` switches
it to WAL mode. Each thread gets its own Django connection, so the Celery
worker thread reads through a connection of its own and, like a worker on
another machine, sees only committed rows.
"""

from __future__ import annotations

import os

SECRET_KEY = "race-demo-not-a-secret"
DEBUG = False
USE_TZ = True
INSTALLED_APPS = ["raceapp"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("RACE_DEMO_DB", "race-demo.sqlite3"),
        # Wait for a writer's lock instead of failing at once.
        "OPTIONS": {"timeout": 20},
    }
}

# A real Celery worker, in this process: the in-memory broker is shared by
# every thread of the process. Poll it often so the worker picks a job up at
# once, as a worker on Redis or RabbitMQ does.
CELERY_BROKER_URL = "memory://localhost/"
CELERY_BROKER_TRANSPORT_OPTIONS = {"polling_interval": 0.01}
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = False
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
