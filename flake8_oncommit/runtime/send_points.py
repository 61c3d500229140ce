"""Where each task library hands a job to its broker: the guard's hook points, as data.

One :class:`QueueLibrary` entry per library. Each names the methods the
guard wraps while it is active, chosen at the layer every way of sending
goes through (``delay``, ``apply_async``, canvases and ``send_task`` all end
in ``Celery.send_task`` or ``Task.apply_async``; ``enqueue``, ``enqueue_in``
and ``@job.delay`` in ``Queue.enqueue_call``/``schedule_job``...). They are
methods of the broker, queue or task *class*, never a module attribute that
a caller may have imported by name before the guard started; the one
exception, django-q's ``_sync``, is private and only ever reached through
its module's globals.

Nothing here imports a library: the guard wraps a send point when (and if)
the application imports its module. The ``describe`` functions run only for
a send made while a transaction is open, to name the job in the report and
to tell whether its queue is transactional (the job is a row written in the
same transaction, so it cannot race the commit).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Send:
    """What one observed send handed over, as far as the report needs it."""

    #: names the job in the message, in place of the static rule's ``{call}``
    what: str
    #: dotted names of the task, its classes and the queue's classes, matched
    #: against transactional queues (built-in and ``transactional-queues``)
    identities: frozenset[str] = frozenset()


Describe = Callable[[tuple[Any, ...], Mapping[str, Any]], Send]


@dataclass(frozen=True)
class SendPoint:
    """A method (or private function) that sends a job."""

    #: the module that defines it; the guard wraps it when this is imported
    module: str
    #: ``Class.method``, or a function name for a module-private function
    attribute: str
    #: names the job from the call's arguments (``args[0]`` is ``self``)
    describe: Describe
    #: also wrap the overrides of subclasses, including those defined later
    #: (brokers and backends override an abstract ``enqueue``)
    subclasses: bool = False


@dataclass(frozen=True)
class QueueLibrary:
    """One task library, as the guard sees it."""

    name: str
    #: top-level packages whose frames are the library's own: the send site
    #: reported is the first frame outside them
    packages: tuple[str, ...]
    send_points: tuple[SendPoint, ...]
    #: classes whose sends write the job in the caller's transaction
    transactional: frozenset[str] = frozenset()


def class_names(obj: object) -> frozenset[str]:
    """``module.Qualname`` of the object's class and every base (not ``object``)."""
    return frozenset(f"{cls.__module__}.{cls.__qualname__}" for cls in type(obj).__mro__ if cls is not object)


def _arg(args: tuple[Any, ...], kwargs: Mapping[str, Any], index: int, name: str) -> Any:
    if len(args) > index:
        return args[index]
    return kwargs.get(name)


# -- Celery ------------------------------------------------------------------


def _celery_task(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Send:
    task = args[0]
    name = str(getattr(task, "name", type(task).__name__))
    return Send(f"Celery task {name!r}", class_names(task) | {name})


def _celery_send_task(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Send:
    name = str(_arg(args, kwargs, 1, "name"))
    return Send(f"Celery send_task({name!r})", class_names(args[0]) | {name})


def _celery_canvas(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Send:
    signature = args[0]
    task = signature.get("task") if isinstance(signature, dict) else None
    if isinstance(task, str):
        return Send(f"Celery task {task!r} (signature)", class_names(signature) | {task})
    return Send(f"Celery {type(signature).__name__}", class_names(signature))


CELERY = QueueLibrary(
    name="celery",
    packages=("celery", "kombu"),
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

# -- django-q / django-q2 ----------------------------------------------------


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
    name="django-q",
    packages=("django_q",),
    send_points=(
        # async_task, async_iter, async_chain, AsyncTask.run and Chain.run all
        # end in broker.enqueue(), or in _sync() with sync=True.
        SendPoint("django_q.brokers", "Broker.enqueue", _django_q_broker, subclasses=True),
        SendPoint("django_q.tasks", "_sync", _django_q_sync),
    ),
    # The ORM broker writes the job as a row through Django's connection.
    transactional=frozenset({"django_q.brokers.orm.ORM"}),
)

# -- RQ / django-rq ----------------------------------------------------------


def _rq_queue(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Send:
    queue = args[0]
    name = getattr(queue, "name", "?")
    return Send(f"RQ job (queue {name!r})", class_names(queue))


RQ = QueueLibrary(
    name="rq",
    packages=("rq", "django_rq"),
    send_points=(
        # enqueue() and @job.delay() call enqueue_call(), which calls enqueue_job().
        SendPoint("rq.queue", "Queue.enqueue_call", _rq_queue, subclasses=True),
        SendPoint("rq.queue", "Queue.enqueue_job", _rq_queue, subclasses=True),
        SendPoint("rq.queue", "Queue.enqueue_many", _rq_queue, subclasses=True),
        # enqueue_at() and enqueue_in() end here.
        SendPoint("rq.queue", "Queue.schedule_job", _rq_queue, subclasses=True),
    ),
)

# -- Dramatiq ----------------------------------------------------------------


def _dramatiq_message(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Send:
    broker, message = args[0], _arg(args, kwargs, 1, "message")
    actor = str(getattr(message, "actor_name", "?"))
    return Send(f"Dramatiq actor {actor!r}", class_names(broker) | {actor})


DRAMATIQ = QueueLibrary(
    name="dramatiq",
    packages=("dramatiq", "django_dramatiq"),
    send_points=(
        # actor.send(), send_with_options(), pipelines and groups all call
        # broker.enqueue(); every broker overrides it.
        SendPoint("dramatiq.broker", "Broker.enqueue", _dramatiq_message, subclasses=True),
    ),
)

# -- Huey --------------------------------------------------------------------


def _huey_task(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Send:
    task = _arg(args, kwargs, 1, "task")
    name = str(getattr(task, "name", type(task).__name__))
    return Send(f"Huey task {name!r}", class_names(task) | class_names(args[0]) | {name})


HUEY = QueueLibrary(
    name="huey",
    packages=("huey",),
    send_points=(
        # Calling a @task function, .schedule() and groups/chords end here.
        SendPoint("huey.api", "Huey.enqueue", _huey_task, subclasses=True),
    ),
)

# -- Django 6 tasks / django-tasks -------------------------------------------


def _django_task(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Send:
    backend, task = args[0], _arg(args, kwargs, 1, "task")
    func = getattr(task, "func", None)
    path = f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', '?')}"
    return Send(f"Django task {path!r}", class_names(backend) | {path})


DJANGO_TASKS = QueueLibrary(
    name="django-tasks",
    packages=("django.tasks", "django_tasks"),
    send_points=(
        # Task.enqueue() calls backend.enqueue(); aenqueue() calls it through
        # sync_to_async by default.
        SendPoint("django.tasks.backends.base", "BaseTaskBackend.enqueue", _django_task, subclasses=True),
        SendPoint("django_tasks.backends.base", "BaseTaskBackend.enqueue", _django_task, subclasses=True),
    ),
)

#: Every library the guard watches, one entry each.
LIBRARIES: tuple[QueueLibrary, ...] = (CELERY, DJANGO_Q, RQ, DRAMATIQ, HUEY, DJANGO_TASKS)
