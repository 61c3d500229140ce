"""One Django configuration for every test that runs code under real transactions.

In-memory SQLite databases under every alias the fixtures name, so that a
module written for ``atomic(using="billing")`` runs as written.
"""

from __future__ import annotations

import django
from django.conf import settings

#: Every database alias the fixtures and tests use; ``default`` and ``other`` first.
ALIASES = (
    "default",
    "other",
    "accounts",
    "analytics_ro",
    "audit",
    "billing",
    "catalog",
    "followers",
    "orders",
    "replica",
    "retry",
)

if not settings.configured:
    settings.configure(
        DATABASES={alias: {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"} for alias in ALIASES},
        INSTALLED_APPS=[],
        USE_TZ=True,
    )
    django.setup()
