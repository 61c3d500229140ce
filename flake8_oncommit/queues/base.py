"""What a queue library entry says (see :mod:`flake8_oncommit.queues`).

Both sides of the tool read the same entry: the static analysis (which
spellings make tasks and send jobs) and the test-suite guard (which methods
to wrap at run time, :class:`SendPoint`; the ``describe`` functions only
read the call's arguments and import nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Kind(str, Enum):
    """Whose task or send something is (a ``str`` so summaries store it as text)."""

    CELERY = "celery"
    DJANGO_Q = "django-q"
    RQ = "rq"
    DRAMATIQ = "dramatiq"
    HUEY = "huey"
    DJANGO = "django"
    PROCRASTINATE = "procrastinate"
    FLAGSMITH = "flagsmith-task-processor"
    #: a configured project function or method (``enqueue-functions``)
    PROJECT = "project"
    #: delivery already waits for the commit (a transactional queue)
    TRANSACTIONAL = "transactional"


# -- the test-suite guard's side (flake8_oncommit.runtime) ------------------------


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


def class_names(obj: object) -> frozenset[str]:
    """``module.Qualname`` of the object's class and every base (not ``object``)."""
    return frozenset(f"{cls.__module__}.{cls.__qualname__}" for cls in type(obj).__mro__ if cls is not object)


def arg_of(args: tuple[Any, ...], kwargs: Mapping[str, Any], index: int, name: str) -> Any:
    if len(args) > index:
        return args[index]
    return kwargs.get(name)


@dataclass(frozen=True)
class QueueLibrary:
    """One task library, as the static analysis sees it."""

    kind: Kind
    #: top-level import names (never the project's own modules)
    packages: tuple[str, ...]
    #: what a file that sends through it mentions, for the text pre-check
    words: tuple[str, ...] = ()

    # -- tasks ------------------------------------------------------------
    #: decorators (qualified) whose function becomes a task of this library
    task_decorators: frozenset[str] = frozenset()
    #: decorator names accepted unqualified in a file that imports the library (``@actor``)
    loose_task_decorators: frozenset[str] = frozenset()
    #: ``@<app>.<method>``: methods of an app object that make tasks
    app_task_methods: frozenset[str] = frozenset()
    #: what an app is: classes (their instances) and module-level instances (qualified)
    app_classes: frozenset[str] = frozenset()
    app_instances: frozenset[str] = frozenset()
    #: an app named like this (``huey``, ``HUEY``) is one, whatever its class
    app_name_hint: str | None = None
    #: any receiver's ``app_task_methods`` make a task of this library (Celery: last)
    any_app: bool = False
    #: base classes whose subclasses are tasks (Dramatiq's ``GenericActor``)
    task_base_classes: frozenset[str] = frozenset()
    #: apps (instances, qualified) whose tasks write the job as a row through
    #: Django's connection to this alias: it commits with the caller's block
    row_apps: Mapping[str, str] = field(default_factory=dict)

    # -- sends --------------------------------------------------------------
    #: calling a task function sends it (Huey), rather than running it inline
    call_sends: bool = False
    #: methods that send whatever the receiver (``.delay``, ``.apply_async``: too
    #: common on tasks imported from anywhere to require knowing the receiver)
    any_receiver_methods: frozenset[str] = frozenset()
    #: methods that send only on a task known to be this library's (``.send`` of
    #: an actor, not of a signal; ``.defer`` of a job, not of a QuerySet)
    task_send_methods: frozenset[str] = frozenset()
    #: methods that return a configured copy of a task (``task.configure(...)``)
    task_copy_methods: frozenset[str] = frozenset()
    #: methods of an app that return something with the task send methods (``app.configure_task(...)``)
    app_deferrer_methods: frozenset[str] = frozenset()
    #: functions (qualified) that send
    send_functions: frozenset[str] = frozenset()
    #: functions that send, matched on their last name part (re-exported, star-imported)
    send_function_names: frozenset[str] = frozenset()
    #: classes whose instances' ``.run()`` sends (django-q ``AsyncTask``, Dramatiq ``group``)
    runnables: frozenset[str] = frozenset()
    #: schedulers: classes and factories (qualified) whose objects' ``scheduler_methods`` send
    schedulers: frozenset[str] = frozenset()
    scheduler_methods: frozenset[str] = frozenset()

    # -- canvases: objects built now, sent later --------------------------------
    #: constructors of a composite that sends when called (``chain(...)()``)
    composite_constructors: frozenset[str] = frozenset()
    #: constructors of a signature that sends only with ``.delay()``/``.apply_async()``
    signature_constructors: frozenset[str] = frozenset()
    #: task methods that build a signature (``.s()``) / a composite (``.chunks()``)
    signature_methods: frozenset[str] = frozenset()
    composite_methods: frozenset[str] = frozenset()
    #: ``a | b`` of signatures is a composite
    pipes: bool = False

    # -- what already waits ------------------------------------------------------
    #: send methods and their commit-aware twins (``--style celery``)
    commit_aware_twins: Mapping[str, str] = field(default_factory=dict)
    #: decorators whose tasks' sends wait for the commit
    transactional_decorators: frozenset[str] = frozenset()
    #: keywords of those decorators that, given a literal ``False``, make the
    #: tasks send at once (they are then reported as any ``.delay()`` is)
    immediate_when_false: frozenset[str] = frozenset()

    # -- at run time (the test-suite guard) ----------------------------------------
    #: the methods the guard wraps, at the layer every way of sending goes through
    send_points: tuple[SendPoint, ...] = ()
    #: module prefixes whose frames are the library's own (besides ``packages``)
    frame_packages: tuple[str, ...] = ()
    #: classes (``module.Qualname``) whose sends write the job in the caller's transaction
    transactional_classes: frozenset[str] = frozenset()
