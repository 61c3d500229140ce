"""flagsmith-task-processor (``task_processor`` of flagsmith-common): a database-backed queue.

``@register_task_handler()`` makes a ``TaskHandler`` whose ``delay()``
waits for the commit in each of its run methods: in its default
``SEPARATE_THREAD`` mode it starts the thread from ``on_commit``; in
``TASK_PROCESSOR`` mode it writes a ``Task`` row through Django's
connection, committed or rolled back with the caller's block; in
``SYNCHRONOUSLY`` mode it runs inline. Only ``transaction_on_commit=False``
starts the thread at once: those tasks are reported like any ``.delay()``.

A project that routes the task table to a database of its own
(``TASK_PROCESSOR_DATABASE_URL``) commits the row at once; that is not read
from settings (see the README's limitations). The package name is not in
``packages``: ``task_processor`` is a generic name that projects use for
modules of their own (flagsmith itself did before the split).
"""

from __future__ import annotations

from .base import Kind, QueueLibrary

FLAGSMITH_TASK_PROCESSOR = QueueLibrary(
    kind=Kind.FLAGSMITH,
    packages=(),
    transactional_decorators=frozenset({"task_processor.decorators.register_task_handler"}),
    immediate_when_false=frozenset({"transaction_on_commit"}),
)
