"""A minimal Django project for the race demo: one app, one model, one Celery task.

Importing the package loads the Celery app, as the usual Django + Celery
layout does (``proj/__init__.py`` imports ``proj/celery.py``).
"""

from .celery import app as celery_app

__all__ = ["celery_app"]
