"""What the task-queue and Django APIs look like: data, no logic.

Each table names a library's calls by qualified name (as the import table
resolves them) or by method name (for calls on objects whose type a linter
cannot know, such as ``some_task.delay``).
"""

from __future__ import annotations

import re

#: The atomic decorator / context manager.
ATOMIC = frozenset({"django.db.transaction.atomic"})

#: ``with ExitStack() as stack: stack.enter_context(atomic())`` opens a block.
EXIT_STACKS = frozenset({"contextlib.ExitStack"})
#: Context managers that swallow exceptions raised in their body.
SWALLOWING_CONTEXT_MANAGERS = frozenset({"contextlib.suppress"})

#: Database aliases that name a read replica: a transaction there cannot
#: write, so an enqueue inside it has nothing to wait for.
READ_ONLY_ALIAS = re.compile(
    r"(?<![a-z])(replicas?|read_?only|read-only|readonly|follower|standby|slave)(?![a-z])", re.IGNORECASE
)

#: Top-level packages that are never the project's own: the index is not asked.
NOT_PROJECT_PACKAGES = frozenset(
    {
        "django",
        "celery",
        "kombu",
        "rest_framework",
        "ninja",
        "ninja_extra",
        "huey",
        "dramatiq",
        "rq",
        "django_rq",
        "django_q",
        "redis",
        "typing",
        "functools",
        "contextlib",
        "os",
        "sys",
        "re",
        "json",
        "logging",
        "datetime",
        "collections",
        "itertools",
        "uuid",
        "decimal",
    }
)

#: What a name means when nothing in the file binds it (snippets, star imports).
UNBOUND_NAMES = {"transaction": "django.db.transaction"}

#: ``@transaction.non_atomic_requests`` exempts a view from ATOMIC_REQUESTS.
NON_ATOMIC_REQUESTS = frozenset({"django.db.transaction.non_atomic_requests"})

#: ``method_decorator`` lifts a function decorator onto methods.
METHOD_DECORATOR = frozenset({"django.utils.decorators.method_decorator"})

#: Functions that defer a callable until the transaction commits.
ON_COMMIT_FUNCTIONS = frozenset({"django.db.transaction.on_commit"})
#: ``transaction.on_commit`` reached as an attribute of these.
TRANSACTION_MODULES = frozenset({"django.db.transaction"})
#: The default connection object (``connection.on_commit`` registers there).
DEFAULT_CONNECTIONS = frozenset({"django.db.connection"})

#: The method that defers: ``connection.on_commit``, ``connections[a].on_commit``.
#: (Celery 5.4's ``delay_on_commit``/``apply_async_on_commit`` are simply not
#: enqueue methods: nothing to report.)
ON_COMMIT_METHOD = "on_commit"

#: Methods that send a task whatever the receiver is called.
#: Celery ``delay``/``apply_async`` (also RQ ``@job`` functions and canvases),
#: ``send_task`` (Celery app), RQ queues, Huey's ``enqueue`` and Django tasks.
ENQUEUE_METHODS: dict[str, str] = {
    "delay": "celery",
    "apply_async": "celery",
    "send_task": "celery",
    "enqueue": "rq",
    "enqueue_call": "rq",
    "enqueue_in": "rq",
    "enqueue_at": "rq",
    "enqueue_many": "rq",
    "aenqueue": "django",
}

#: Celery methods with an ``*_on_commit`` twin (Celery 5.4+ DjangoTask).
CELERY_ON_COMMIT_TWIN = {"delay": "delay_on_commit", "apply_async": "apply_async_on_commit"}

#: Functions that send a job, matched on the last component of the name
#: (django-q's functions are commonly re-exported or star-imported).
ENQUEUE_FUNCTION_NAMES: dict[str, str] = {
    "async_task": "django-q",
    "async_chain": "django-q",
    "async_iter": "django-q",
}

#: Functions that send a job, matched on the full qualified name.
ENQUEUE_FUNCTIONS: dict[str, str] = {
    "django_rq.enqueue": "rq",
    "django_rq.queues.enqueue": "rq",
}

#: django-q classes whose ``.run()`` sends the job.
DJANGO_Q_RUNNABLES = frozenset(
    {
        "django_q.tasks.AsyncTask",
        "django_q.tasks.Chain",
        "django_q.AsyncTask",
        "django_q.Chain",
    }
)

#: What sends a django-q job: with the ORM broker on the project's database,
#: each is a row written in the caller's transaction (a transactional queue).
DJANGO_Q_SENDERS = frozenset(
    f"{module}.{name}"
    for module in ("django_q.tasks", "django_q")
    for name in ("async_task", "async_chain", "async_iter", "async", "AsyncTask", "Chain")
)

#: Dramatiq actor methods; only on receivers known to be actors.
DRAMATIQ_SEND_METHODS = frozenset({"send", "send_with_options"})
DRAMATIQ_ACTOR_DECORATORS = frozenset({"dramatiq.actor", "django_dramatiq.actor"})

#: Celery canvas constructors: calling the result sends it.
CELERY_CANVAS_MULTI = frozenset(
    {
        "celery.chain",
        "celery.group",
        "celery.chord",
        "celery.chunks",
        "celery.xmap",
        "celery.xstarmap",
        "celery.canvas.chain",
        "celery.canvas.group",
        "celery.canvas.chord",
        "celery.canvas.chunks",
        "celery.canvas.xmap",
        "celery.canvas.xstarmap",
        "celery.canvas._chain",
    }
)
CELERY_SIGNATURE = frozenset(
    {"celery.signature", "celery.canvas.signature", "celery.canvas.Signature", "celery.Signature"}
)
#: Methods that build a signature without sending it.
SIGNATURE_METHODS = frozenset({"s", "si", "signature", "subtask"})

#: Decorators whose functions enqueue when called (Huey).
HUEY_TASK_DECORATORS = frozenset(
    {
        "huey.contrib.djhuey.task",
        "huey.contrib.djhuey.db_task",
        "huey.contrib.djhuey.HUEY.task",
        "huey.contrib.djhuey.HUEY.db_task",
    }
)
HUEY_TASK_METHODS = frozenset({"task", "db_task"})
HUEY_CLASSES = frozenset(
    {
        "huey.Huey",
        "huey.RedisHuey",
        "huey.PriorityRedisHuey",
        "huey.RedisExpireHuey",
        "huey.SqliteHuey",
        "huey.MemoryHuey",
        "huey.FileHuey",
        "huey.api.Huey",
        "huey.contrib.djhuey.HUEY",
    }
)
#: A Huey task's ``.schedule(...)`` enqueues with a delay.
HUEY_SCHEDULE_METHOD = "schedule"

#: RQ's job decorator: ``.delay()`` of the function enqueues.
RQ_JOB_DECORATORS = frozenset({"rq.decorators.job", "rq.job", "django_rq.job", "django_rq.decorators.job"})

#: Task decorators whose sends already wait: django-post-request-task sends
#: after the request (and its ATOMIC_REQUESTS transaction) has finished.
TRANSACTIONAL_TASK_DECORATORS = frozenset(
    {"post_request_task.task.task", "post_request_task.task.shared_task"}
)

#: Celery task decorators (a direct call runs inline: not an enqueue).
CELERY_TASK_DECORATORS = frozenset({"celery.shared_task", "celery.task"})

#: Django 6 tasks / django-tasks.
DJANGO_TASK_DECORATORS = frozenset({"django.tasks.task", "django_tasks.task"})

#: Django signals: ``.send()`` dispatches receivers, it is not a job.
SIGNAL_CLASSES = frozenset({"django.dispatch.Signal", "django.dispatch.dispatcher.Signal"})
SIGNAL_MODULES = (
    "django.db.models.signals.",
    "django.core.signals.",
    "django.test.signals.",
    "django.dispatch.",
    "django.contrib.auth.signals.",
)
