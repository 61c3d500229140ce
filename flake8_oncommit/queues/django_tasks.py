"""Django 6 tasks (``django.tasks``) and the django-tasks backport: ``.enqueue()``/``.aenqueue()``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Kind, QueueLibrary, Send, SendPoint, arg_of, class_names

# -- at run time: what a send handed over, for the guard's report


def _django_task(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Send:
    backend, task = args[0], arg_of(args, kwargs, 1, "task")
    func = getattr(task, "func", None)
    path = f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', '?')}"
    return Send(f"Django task {path!r}", class_names(backend) | {path})


DJANGO_TASKS = QueueLibrary(
    kind=Kind.DJANGO,
    packages=("django_tasks", "django_tasks_db", "django_tasks_rq"),
    words=("enqueue",),
    task_decorators=frozenset({"django.tasks.task", "django_tasks.task"}),
    any_receiver_methods=frozenset({"aenqueue"}),
    task_send_methods=frozenset({"enqueue"}),
    send_points=(
        # Task.enqueue() calls backend.enqueue(); aenqueue() calls it through
        # sync_to_async by default.
        SendPoint("django.tasks.backends.base", "BaseTaskBackend.enqueue", _django_task, subclasses=True),
        SendPoint("django_tasks.backends.base", "BaseTaskBackend.enqueue", _django_task, subclasses=True),
    ),
    frame_packages=("django.tasks",),
)
