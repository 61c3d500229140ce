"""The task-queue libraries, one entry each: what makes a task, what sends a job now, what waits.

Adding a library is adding one module here (a :class:`QueueLibrary`) and
listing it in :data:`LIBRARIES`; the recognisers in :mod:`..enqueues` read
these entries and name no library themselves. An entry is data: qualified
names (as the import table resolves them) and method names (for calls on
objects whose type a linter cannot know, such as ``some_task.delay``).

Order matters where two libraries share a spelling: ``@app.task`` is a Huey
task on a Huey app, a procrastinate task on a procrastinate app, and a
Celery task otherwise (Celery is last).
"""

from __future__ import annotations

from .base import Kind, QueueLibrary
from .celery import CELERY
from .django_q import DJANGO_Q
from .django_tasks import DJANGO_TASKS
from .dramatiq import DRAMATIQ
from .flagsmith_task_processor import FLAGSMITH_TASK_PROCESSOR
from .huey import HUEY
from .post_request_task import POST_REQUEST_TASK
from .procrastinate import PROCRASTINATE
from .rq import RQ

#: Every library, in the order their spellings are tried.
LIBRARIES: tuple[QueueLibrary, ...] = (
    POST_REQUEST_TASK,
    FLAGSMITH_TASK_PROCESSOR,
    HUEY,
    PROCRASTINATE,
    DRAMATIQ,
    RQ,
    DJANGO_Q,
    DJANGO_TASKS,
    CELERY,
)

BY_KIND: dict[Kind, QueueLibrary] = {library.kind: library for library in LIBRARIES}

#: Top-level packages of the libraries: never the project's own.
PACKAGES: frozenset[str] = frozenset(package for library in LIBRARIES for package in library.packages)

#: What a file must mention (besides an atomic block) to send a job at all.
WORDS: tuple[str, ...] = tuple(dict.fromkeys(word for library in LIBRARIES for word in library.words))

__all__ = ["BY_KIND", "LIBRARIES", "PACKAGES", "WORDS", "Kind", "QueueLibrary"]
