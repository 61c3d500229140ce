"""RQ, django-rq and rq-scheduler.

Queue methods send whatever the receiver is called; ``.delay()`` of an
``@job`` function sends; rq-scheduler's ``schedule``/``cron`` only on a
scheduler (Huey tasks and django-q have a ``schedule`` too).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Kind, QueueLibrary, Send, SendPoint, class_names

# -- at run time: what a send handed over, for the guard's report


def _rq_queue(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Send:
    queue = args[0]
    name = getattr(queue, "name", "?")
    return Send(f"RQ job (queue {name!r})", class_names(queue))


RQ = QueueLibrary(
    kind=Kind.RQ,
    packages=("rq", "django_rq", "rq_scheduler"),
    words=("enqueue", "delay", "schedule", "cron"),
    task_decorators=frozenset({"rq.decorators.job", "django_rq.job", "django_rq.decorators.job"}),
    any_receiver_methods=frozenset(
        {"enqueue", "enqueue_call", "enqueue_in", "enqueue_at", "enqueue_many", "enqueue_job", "schedule_job"}
    ),
    task_send_methods=frozenset({"delay", "enqueue"}),
    send_functions=frozenset({"django_rq.enqueue", "django_rq.queues.enqueue", "rq.requeue_job"}),
    schedulers=frozenset(
        {
            "rq_scheduler.Scheduler",
            "rq_scheduler.scheduler.Scheduler",
            "django_rq.get_scheduler",
            "django_rq.queues.get_scheduler",
        }
    ),
    scheduler_methods=frozenset({"schedule", "cron", "enqueue_at", "enqueue_in"}),
    send_points=(
        # enqueue() and @job.delay() call enqueue_call(), which calls enqueue_job().
        SendPoint("rq.queue", "Queue.enqueue_call", _rq_queue, subclasses=True),
        SendPoint("rq.queue", "Queue.enqueue_job", _rq_queue, subclasses=True),
        SendPoint("rq.queue", "Queue.enqueue_many", _rq_queue, subclasses=True),
        # enqueue_at() and enqueue_in() end here.
        SendPoint("rq.queue", "Queue.schedule_job", _rq_queue, subclasses=True),
    ),
)
