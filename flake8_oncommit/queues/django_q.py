"""django-q and django-q2: ``async_task``, ``async_chain``, ``async_iter``, ``AsyncTask``/``Chain``/``Iter``.

``schedule()`` writes a row in the caller's transaction and is not a send.
With the ORM broker (``Q_CLUSTER = {"orm": alias}``) every send is a row of
that database (see :mod:`..settings_scan`).
"""

from __future__ import annotations

from .base import Kind, QueueLibrary

#: Legacy ``async`` (django-q < 1.0) is renamed to ``async_task`` before parsing.
SEND_FUNCTIONS = frozenset({"async_task", "async_chain", "async_iter"})
RUNNABLES = frozenset({"django_q.tasks.AsyncTask", "django_q.tasks.Chain", "django_q.tasks.Iter"})

DJANGO_Q = QueueLibrary(
    kind=Kind.DJANGO_Q,
    packages=("django_q",),
    words=("async", ".run("),
    send_function_names=SEND_FUNCTIONS,
    runnables=RUNNABLES,
)

#: What sends a django-q job: with the ORM broker on the project's database,
#: each is a row written in the caller's transaction (a transactional queue).
SENDERS = frozenset({f"django_q.tasks.{name}" for name in (*SEND_FUNCTIONS, "async")} | RUNNABLES)
