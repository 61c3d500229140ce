"""Celery: tasks, ``delay``/``apply_async``/``send_task``, canvases, ``*_on_commit`` twins.

Calling a task function runs it inline (not a send). A canvas sends when
called (``chain(...)()``) or with ``.delay()``/``.apply_async()``; a single
signature (``task.s(...)``) sends only with those. ``xmap``/``xstarmap``
have no ``__call__`` of their own: calling one runs ``celery.map`` inline.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Kind, QueueLibrary, Send, SendPoint, arg_of, class_names

_CANVAS = ("celery", "celery.canvas")

# -- at run time: what a send handed over, for the guard's report


def _celery_task(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Send:
    task = args[0]
    name = str(getattr(task, "name", type(task).__name__))
    return Send(f"Celery task {name!r}", class_names(task) | {name})


def _celery_send_task(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Send:
    name = str(arg_of(args, kwargs, 1, "name"))
    return Send(f"Celery send_task({name!r})", class_names(args[0]) | {name})


def _celery_canvas(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Send:
    signature = args[0]
    task = signature.get("task") if isinstance(signature, dict) else None
    if isinstance(task, str):
        return Send(f"Celery task {task!r} (signature)", class_names(signature) | {task})
    return Send(f"Celery {type(signature).__name__}", class_names(signature))


CELERY = QueueLibrary(
    kind=Kind.CELERY,
    packages=("celery", "kombu"),
    words=("delay", "apply_async", "send_task", "chain", "group", "chord", "chunks"),
    task_decorators=frozenset({"celery.shared_task", "celery.task"}),
    app_task_methods=frozenset({"task", "shared_task"}),
    any_app=True,
    any_receiver_methods=frozenset({"delay", "apply_async", "send_task"}),
    composite_constructors=frozenset(
        f"{module}.{name}" for module in _CANVAS for name in ("chain", "group", "chord", "chunks")
    )
    | {"celery.canvas._chain", "celery.canvas._chord"},
    signature_constructors=frozenset(
        f"{module}.{name}"
        for module in _CANVAS
        for name in ("signature", "Signature", "subtask", "maybe_signature", "xmap", "xstarmap")
    ),
    signature_methods=frozenset({"s", "si", "signature", "subtask", "map", "starmap"}),
    composite_methods=frozenset({"chunks"}),
    pipes=True,
    commit_aware_twins={"delay": "delay_on_commit", "apply_async": "apply_async_on_commit"},
    send_points=(
        # delay() calls apply_async(); apply_async() ends in app.send_task()
        # (or runs the task inline under task_always_eager): one report, at
        # the outermost of these.
        SendPoint("celery.app.task", "Task.apply_async", _celery_task, subclasses=True),
        SendPoint("celery.app.base", "Celery.send_task", _celery_send_task, subclasses=True),
        # chain/group/chord run inline under task_always_eager without calling
        # Task.apply_async: their own apply_async is the send.
        SendPoint("celery.canvas", "Signature.apply_async", _celery_canvas, subclasses=True),
    ),
)
