"""Huey: calling a task sends it; ``.schedule()``, ``.map()``, ``huey.enqueue(...)``.

Tasks are made by ``@task``/``@db_task``/``@periodic_task`` of
``huey.contrib.djhuey`` or by ``@<huey>.task()`` on a Huey instance (any
storage class: none writes through Django's connection).
``@on_commit_task`` waits for the commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Kind, QueueLibrary, Send, SendPoint, arg_of, class_names

_DJHUEY = "huey.contrib.djhuey"
_DECORATORS = ("task", "db_task", "periodic_task", "db_periodic_task")
_CLASSES = (
    "Huey",
    "RedisHuey",
    "RedisExpireHuey",
    "PriorityRedisHuey",
    "PriorityRedisExpireHuey",
    "SqliteHuey",
    "CySqliteHuey",
    "MemoryHuey",
    "FileHuey",
    "BlackHoleHuey",
    "PostgresHuey",
)

# -- at run time: what a send handed over, for the guard's report


def _huey_task(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Send:
    task = arg_of(args, kwargs, 1, "task")
    name = str(getattr(task, "name", type(task).__name__))
    return Send(f"Huey task {name!r}", class_names(task) | class_names(args[0]) | {name})


HUEY = QueueLibrary(
    kind=Kind.HUEY,
    packages=("huey",),
    words=("huey", "task"),
    task_decorators=frozenset(
        {f"{_DJHUEY}.{name}" for name in _DECORATORS} | {f"{_DJHUEY}.HUEY.{name}" for name in _DECORATORS}
    ),
    app_task_methods=frozenset({"task", "db_task", "periodic_task", "db_periodic_task", "context_task"}),
    app_classes=frozenset(
        {f"huey.{name}" for name in _CLASSES}
        | {f"huey.api.{name}" for name in _CLASSES}
        | {"huey.contrib.sql_huey.SqlHuey"}
    ),
    app_instances=frozenset({f"{_DJHUEY}.HUEY"}),
    app_name_hint="huey",
    call_sends=True,
    any_receiver_methods=frozenset(),
    task_send_methods=frozenset({"schedule", "map"}),
    send_functions=frozenset({f"{_DJHUEY}.enqueue"}),
    transactional_decorators=frozenset({f"{_DJHUEY}.on_commit_task"}),
    send_points=(
        # Calling a @task function, .schedule() and groups/chords end here.
        SendPoint("huey.api", "Huey.enqueue", _huey_task, subclasses=True),
    ),
)
