from __future__ import annotations

from django.apps import AppConfig


class RaceAppConfig(AppConfig):
    name = "raceapp"
    default_auto_field = "django.db.models.BigAutoField"
