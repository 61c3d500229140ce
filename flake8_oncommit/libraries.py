"""What Django's transaction API looks like: data, no logic.

Each table names calls by qualified name (as the import table resolves
them) or by method name. The task-queue libraries are in :mod:`.queues`,
one entry each.
"""

from __future__ import annotations

import re

from .effects import PACKAGES as EFFECT_PACKAGES
from .queues import PACKAGES as QUEUE_PACKAGES

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
NOT_PROJECT_PACKAGES = (
    QUEUE_PACKAGES
    | EFFECT_PACKAGES
    | frozenset(
        {
            "django",
            "rest_framework",
            "ninja",
            "ninja_extra",
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
            "multiprocessing",
            "concurrent",
            "asyncio",
            "threading",
        }
    )
)

#: Modules whose objects' ``apply_async``/``enqueue``... queue nothing (thread and process pools).
NOT_QUEUE_PACKAGES = frozenset({"multiprocessing", "concurrent", "asyncio", "threading"})

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

#: Django signals: ``.send()`` dispatches receivers, it is not a job.
SIGNAL_CLASSES = frozenset({"django.dispatch.Signal", "django.dispatch.dispatcher.Signal"})
SIGNAL_MODULES = (
    "django.db.models.signals.",
    "django.core.signals.",
    "django.test.signals.",
    "django.dispatch.",
    "django.contrib.auth.signals.",
)


def is_project_name(qualified: str) -> bool:
    """Whether an absolute name may be of the project: dotted, and not in a known library's package."""
    return (
        "." in qualified
        and not qualified.startswith(".")
        and qualified.split(".", 1)[0] not in NOT_PROJECT_PACKAGES
    )
