"""django-post-request-task: Celery tasks sent after the request (and its transaction) ended."""

from __future__ import annotations

from .base import Kind, QueueLibrary

POST_REQUEST_TASK = QueueLibrary(
    kind=Kind.TRANSACTIONAL,
    packages=("post_request_task",),
    transactional_decorators=frozenset({"post_request_task.task.task", "post_request_task.task.shared_task"}),
)
