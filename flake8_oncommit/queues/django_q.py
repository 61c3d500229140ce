"""django-q and django-q2: ``async_task``, ``async_chain``, ``async_iter``, ``AsyncTask``/``Chain``/``Iter``.

``schedule()`` writes a row in the caller's transaction and is not a send.
With the ORM broker (``Q_CLUSTER = {"orm": alias}``) every send is a row of
that database (see :mod:`..settings_scan`).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from .base import Kind, QueueLibrary, Send, SendPoint, class_names

#: Legacy ``async`` (django-q < 1.0) is renamed to ``async_task`` before parsing.
SEND_FUNCTIONS = frozenset({"async_task", "async_chain", "async_iter"})
RUNNABLES = frozenset({"django_q.tasks.AsyncTask", "django_q.tasks.Chain", "django_q.tasks.Iter"})

# -- at run time: what a send handed over, for the guard's report


def _django_q_broker(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Send:
    broker = args[0]
    return Send(f"django-q task (broker {type(broker).__name__})", class_names(broker))


def _django_q_sync(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Send:
    # sync=True runs the task inline; it would have gone to get_broker()'s
    # broker, which is the ORM broker when Q_CLUSTER has "orm".
    conf = importlib.import_module("django_q.conf").Conf
    identities = {"django_q.tasks.async_task"}
    if getattr(conf, "ORM", None):
        identities.add("django_q.brokers.orm.ORM")
    return Send("django-q task (sync)", frozenset(identities))


DJANGO_Q = QueueLibrary(
    kind=Kind.DJANGO_Q,
    packages=("django_q",),
    words=("async", ".run("),
    send_function_names=SEND_FUNCTIONS,
    runnables=RUNNABLES,
    send_points=(
        # async_task, async_iter, async_chain, AsyncTask.run and Chain.run all
        # end in broker.enqueue(), or in _sync() with sync=True.
        SendPoint("django_q.brokers", "Broker.enqueue", _django_q_broker, subclasses=True),
        SendPoint("django_q.tasks", "_sync", _django_q_sync),
    ),
    # The ORM broker writes the job as a row through Django's connection.
    transactional_classes=frozenset({"django_q.brokers.orm.ORM"}),
)

#: What sends a django-q job: with the ORM broker on the project's database,
#: each is a row written in the caller's transaction (a transactional queue).
SENDERS = frozenset({f"django_q.tasks.{name}" for name in (*SEND_FUNCTIONS, "async")} | RUNNABLES)
