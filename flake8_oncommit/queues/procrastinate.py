"""procrastinate: ``task.defer()``, ``task.configure(...).defer()``, ``app.configure_task(...).defer()``.

How a job meets an open Django transaction depends on the app's connector.
``procrastinate.contrib.django.app`` (its ``DjangoConnector``) writes the
job through Django's own connection: a row of the caller's transaction on
that database, committed or rolled back with it (silent). Every other
connector (psycopg, aiopg, psycopg2, SQLAlchemy pools) commits the job on
its own connection at once (reported). ``.defer`` of a QuerySet is not a
job: only receivers known to be procrastinate tasks count.
"""

from __future__ import annotations

from .base import Kind, QueueLibrary

_DJANGO_APP = "procrastinate.contrib.django.app"

PROCRASTINATE = QueueLibrary(
    kind=Kind.PROCRASTINATE,
    packages=("procrastinate",),
    words=("defer",),
    app_task_methods=frozenset({"task"}),
    app_classes=frozenset(
        {
            "procrastinate.App",
            "procrastinate.app.App",
            "procrastinate.Blueprint",
            "procrastinate.blueprints.Blueprint",
            "procrastinate.contrib.django.DjangoApp",
        }
    ),
    app_instances=frozenset({_DJANGO_APP, "procrastinate.contrib.django.procrastinate_app.app"}),
    row_apps={_DJANGO_APP: "default", "procrastinate.contrib.django.procrastinate_app.app": "default"},
    task_send_methods=frozenset({"defer", "defer_async", "batch_defer", "batch_defer_async"}),
    task_copy_methods=frozenset({"configure"}),
    app_deferrer_methods=frozenset({"configure_task"}),
)
