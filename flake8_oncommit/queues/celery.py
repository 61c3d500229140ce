"""Celery: tasks, ``delay``/``apply_async``/``send_task``, canvases, ``*_on_commit`` twins.

Calling a task function runs it inline (not a send). A canvas sends when
called (``chain(...)()``) or with ``.delay()``/``.apply_async()``; a single
signature (``task.s(...)``) sends only with those. ``xmap``/``xstarmap``
have no ``__call__`` of their own: calling one runs ``celery.map`` inline.
"""

from __future__ import annotations

from .base import Kind, QueueLibrary

_CANVAS = ("celery", "celery.canvas")

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
)
