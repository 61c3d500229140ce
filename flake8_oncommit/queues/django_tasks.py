"""Django 6 tasks (``django.tasks``) and the django-tasks backport: ``.enqueue()``/``.aenqueue()``."""

from __future__ import annotations

from .base import Kind, QueueLibrary

DJANGO_TASKS = QueueLibrary(
    kind=Kind.DJANGO,
    packages=("django_tasks", "django_tasks_db", "django_tasks_rq"),
    words=("enqueue",),
    task_decorators=frozenset({"django.tasks.task", "django_tasks.task"}),
    any_receiver_methods=frozenset({"aenqueue"}),
    task_send_methods=frozenset({"enqueue"}),
)
