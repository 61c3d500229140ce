"""Where each task library hands a job to its broker: the guard's hook points.

They are part of each library's one entry in :mod:`flake8_oncommit.queues`
(``send_points``, ``frame_packages``, ``transactional_classes``), beside what
the static analysis reads; this module is the guard's view of them. Each
names the methods the guard wraps while it is active, chosen at the layer
every way of sending goes through (``delay``, ``apply_async``, canvases and
``send_task`` all end in ``Celery.send_task`` or ``Task.apply_async``;
``enqueue``, ``enqueue_in`` and ``@job.delay`` in
``Queue.enqueue_call``/``schedule_job``...). They are methods of the broker,
queue or task *class*, never a module attribute that a caller may have
imported by name before the guard started; the one exception, django-q's
``_sync``, is private and only ever reached through its module's globals.

Nothing here imports a library: the guard wraps a send point when (and if)
the application imports its module.
"""

from __future__ import annotations

from ..queues import LIBRARIES as ALL_LIBRARIES
from ..queues.base import Describe, QueueLibrary, Send, SendPoint, class_names

#: The libraries the guard watches (those with send points).
LIBRARIES: tuple[QueueLibrary, ...] = tuple(library for library in ALL_LIBRARIES if library.send_points)

__all__ = ["LIBRARIES", "Describe", "QueueLibrary", "Send", "SendPoint", "class_names"]
