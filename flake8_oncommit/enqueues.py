"""Enqueues and deferrals: what sends a job now, and what waits for the commit.

Celery (tasks, canvases, ``send_task``), django-q, RQ, Dramatiq actors, Huey
tasks, Django tasks, configured project functions and methods; tasks and
actors of the project's other modules (through the index); and the
``on_commit`` calls (any spelling, configured or discovered deferrers) whose
arguments are deferred.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from . import libraries as lib
from .names import COMMIT_AWARE_TASK_BASE, LOCAL, Binding, Canvas, LocalFunction, Marker, TaskDef, dotted_name
from .resolution import DEFAULT_ALIAS, Resolver, alias_text, argument
from .walk import iter_children, iter_descendants


@dataclass(frozen=True)
class Enqueue:
    """A call recognised as sending a job."""

    library: str
    celery_twin: str | None = None


@dataclass(frozen=True)
class OnCommit:
    """An ``on_commit``-like call and where it registers its callback.

    ``callback`` is the callable argument (None when absent). ``alias`` is
    the database it registers on, as text to compare: a string literal's
    value, ``default``, or the source text of an expression; None when it
    cannot be known. ``using_arg`` is the ``using=`` argument node, and
    ``fixable_using`` whether ``using=`` can be added or changed (not for
    ``connection.on_commit`` or project deferrers).
    """

    callback: cst.BaseExpression | None
    alias: str | None
    using_arg: cst.Arg | None
    fixable_using: bool


class EnqueueRecognizer(Resolver):
    """Which calls send a job, which defer one, and what a decorator makes a task."""

    def task_kind(self, decorator: cst.BaseExpression) -> str | None:
        """The kind of task a decorator makes, or None."""
        if isinstance(decorator, cst.Call):
            base = next((arg for arg in decorator.args if arg.keyword and arg.keyword.value == "base"), None)
            if base is not None and self.is_commit_aware_base(base.value):
                return "transactional"
        target = decorator.func if isinstance(decorator, cst.Call) else decorator
        found = self.resolve(target)
        if self.is_configured(found, self.config.transactional_queues):
            return "transactional"
        qualified = found if isinstance(found, str) else None
        if qualified is not None and qualified in lib.TRANSACTIONAL_TASK_DECORATORS:
            return "transactional"
        if qualified is not None:
            if qualified in lib.HUEY_TASK_DECORATORS:
                return "huey"
            if qualified in lib.DRAMATIQ_ACTOR_DECORATORS or (
                self.imports_dramatiq and qualified.rsplit(".", 1)[-1] == "actor"
            ):
                return "dramatiq"
            if qualified in lib.RQ_JOB_DECORATORS:
                return "rq"
            if qualified in lib.DJANGO_TASK_DECORATORS:
                return "django"
            if qualified in lib.CELERY_TASK_DECORATORS:
                return "celery"
        if isinstance(target, cst.Attribute) and target.attr.value in lib.HUEY_TASK_METHODS:
            receiver = self.resolve(target.value)
            if receiver == Marker("huey") or (
                isinstance(receiver, str)
                and ("huey" in receiver.rsplit(".", 1)[-1].lower() or receiver in lib.HUEY_CLASSES)
            ):
                return "huey"
        if isinstance(target, cst.Attribute) and target.attr.value in ("task", "shared_task"):
            return "celery"
        return None

    def task_class_binding(self, node: cst.ClassDef) -> Binding:
        """What a module-level class is: a commit-aware Celery Task base, or just local.

        pretix-style ``class TransactionAwareTask(Task)`` whose ``apply_async``
        hands the send to ``on_commit`` (``delay`` goes through it too), or a
        subclass of one that does not override ``apply_async`` again.
        """
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
        for statement in body:
            if isinstance(statement, cst.FunctionDef) and statement.name.value == "apply_async":
                return COMMIT_AWARE_TASK_BASE if _calls_on_commit(statement) else LOCAL
        if any(self.is_commit_aware_base(base.value) for base in node.bases):
            return COMMIT_AWARE_TASK_BASE
        return LOCAL

    def is_commit_aware_base(self, node: cst.BaseExpression) -> bool:
        """A Task class (``base=`` of a task decorator) whose sends wait for the commit."""
        found = self.resolve(node)
        if found == COMMIT_AWARE_TASK_BASE or self.is_configured(found, self.config.transactional_queues):
            return True
        return isinstance(found, str) and self.project_commit_aware_task_base(found)

    def canvas_of(self, node: cst.BaseExpression) -> Canvas | None:
        """A Celery signature/canvas expression (sending nothing by itself)."""
        if isinstance(node, cst.Call):
            func = node.func
            callee = self.qualified(func)
            if callee is not None:
                if callee in lib.CELERY_CANVAS_MULTI:
                    return Canvas(multi=True)
                if callee in lib.CELERY_SIGNATURE:
                    return Canvas(multi=False)
            if isinstance(func, cst.Attribute) and func.attr.value in lib.SIGNATURE_METHODS:
                return Canvas(multi=False)
            return None
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
            if self.canvas_of(node.left) is not None or self.canvas_of(node.right) is not None:
                return Canvas(multi=True)
            return None
        if isinstance(node, cst.Name):
            found = self.resolve(node)
            return found if isinstance(found, Canvas) else None
        return None

    def enqueue_of(self, call: cst.Call, *, deep: bool = False) -> Enqueue | None:
        """Whether ``call`` sends a job right now, and through which library.

        ``deep`` also asks the project index about tasks defined in other
        modules (done where it matters: inside atomic blocks).
        """
        func = call.func
        config = self.config
        callee = self.resolve(func)
        if self.is_configured(callee, config.transactional_queues):
            return None
        if deep and self.index is not None:
            found = self._project_enqueue(func, callee)
            if found is not None:
                return found if found.library else None
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            receiver = self.resolve(func.value)
            if isinstance(receiver, TaskDef) and receiver.kind == "transactional":
                return None
            if self.is_configured(receiver, config.transactional_queues):
                return None
            library = lib.ENQUEUE_METHODS.get(method)
            if library is not None:
                veto = self.project_function(receiver, "task")
                if veto is not None and veto.task == "transactional":
                    return None  # a task of another module whose delivery waits for the commit
                if method in lib.CELERY_ON_COMMIT_TWIN and _is_plain_task(func.value, receiver):
                    return Enqueue("celery", lib.CELERY_ON_COMMIT_TWIN[method])
                return Enqueue(library)
            if method in config.enqueue_methods:
                return Enqueue("project")
            if method in lib.DRAMATIQ_SEND_METHODS and self._is_actor(receiver):
                return Enqueue("dramatiq")
            if method == "run" and self._is_django_q_runnable(func.value, receiver):
                return Enqueue("django-q")
            if (
                method == lib.HUEY_SCHEDULE_METHOD
                and isinstance(receiver, TaskDef)
                and receiver.kind == "huey"
            ):
                return Enqueue("huey")
        if self.is_configured(callee, config.enqueue_functions):
            return Enqueue("project")
        if isinstance(callee, TaskDef):
            return Enqueue("huey") if callee.kind == "huey" else None
        if isinstance(callee, str):
            library = lib.ENQUEUE_FUNCTIONS.get(callee)
            if library is not None:
                return Enqueue(library)
            library = lib.ENQUEUE_FUNCTION_NAMES.get(callee.rsplit(".", 1)[-1])
            if library is not None:
                return Enqueue(library)
        canvas = self.canvas_of(func)
        if canvas is not None and canvas.multi:
            return Enqueue("celery")
        return None

    def _project_enqueue(self, func: cst.BaseExpression, callee: Binding | None) -> Enqueue | None:
        """Tasks and actors defined in other modules.

        Returns None when the index has nothing to say, ``Enqueue("")`` when
        the call certainly sends nothing now (a transactional task).
        """
        summary = self.project_function(callee, "task")
        if summary is not None and summary.task is not None:
            if summary.task == "huey":
                return Enqueue("huey")
            if summary.task == "transactional":
                return Enqueue("")
            return None  # calling a Celery/RQ/Dramatiq task directly runs it inline
        if not isinstance(func, cst.Attribute):
            return None
        summary = self.project_function(self.resolve(func.value), "task")
        if summary is None or summary.task is None:
            return None
        method = func.attr.value
        if summary.task == "transactional":
            return Enqueue("")
        if summary.task == "dramatiq" and method in lib.DRAMATIQ_SEND_METHODS:
            return Enqueue("dramatiq")
        if summary.task == "huey" and method == lib.HUEY_SCHEDULE_METHOD:
            return Enqueue("huey")
        if summary.task == "rq" and method in lib.ENQUEUE_METHODS:
            return Enqueue("rq")  # no *_on_commit twin for RQ jobs
        return None

    def _is_actor(self, receiver: Binding | None) -> bool:
        if isinstance(receiver, TaskDef):
            return receiver.kind == "dramatiq"
        if not self.imports_dramatiq or not isinstance(receiver, str):
            return False
        if receiver in lib.SIGNAL_CLASSES or receiver.startswith(lib.SIGNAL_MODULES):
            return False
        last = receiver.rsplit(".", 1)[-1].lower()
        return not (last.endswith("signal") or last in ("self", "cls"))

    def _is_django_q_runnable(self, node: cst.BaseExpression, receiver: Binding | None) -> bool:
        if receiver == Marker("django-q"):
            return True
        if isinstance(node, cst.Call):
            callee = self.qualified(node.func)
            return (
                callee is not None
                and callee in lib.DJANGO_Q_RUNNABLES
                and not self.is_configured(callee, self.config.transactional_queues)
            )
        return False

    def on_commit_of(self, call: cst.Call, *, deep: bool = False) -> OnCommit | None:
        """``transaction.on_commit``, ``connection(s[..]).on_commit``, safe deferrers.

        ``deep`` also asks the project index for functions that defer.
        """
        func = call.func
        callback = _callback_argument(call)
        if isinstance(func, cst.Attribute) and func.attr.value == lib.ON_COMMIT_METHOD:
            receiver_node = func.value
            receiver = self.resolve(receiver_node)
            if isinstance(receiver, str) and receiver in lib.TRANSACTION_MODULES:
                return self._function_on_commit(call, callback)
            if receiver is None and isinstance(receiver_node, cst.Subscript):
                # connections[alias].on_commit(...)
                alias = _subscript_alias(self.module, receiver_node)
                return OnCommit(callback, alias, None, fixable_using=False)
            if isinstance(receiver, str) and receiver in lib.DEFAULT_CONNECTIONS:
                return OnCommit(callback, DEFAULT_ALIAS, None, fixable_using=False)
            if receiver is None or isinstance(receiver, str):
                return OnCommit(callback, None, None, fixable_using=False)
            return None
        found = self.resolve(func)
        if self.is_configured(found, self.config.safe_deferrers):
            return OnCommit(callback, None, None, fixable_using=False)
        if deep:
            summary = self.project_function(found, "deferrer")
            if summary is not None and summary.deferrer:
                return OnCommit(callback, None, None, fixable_using=False)
        if not isinstance(found, str):
            return None
        if found in lib.ON_COMMIT_FUNCTIONS:
            return self._function_on_commit(call, callback)
        # A project's own ``on_commit`` helper defers by its very name.
        if found.rsplit(".", 1)[-1] == lib.ON_COMMIT_METHOD:
            return OnCommit(callback, None, None, fixable_using=False)
        return None

    def _function_on_commit(self, call: cst.Call, callback: cst.BaseExpression | None) -> OnCommit:
        """``on_commit(func, using=None, robust=False)``: ``using`` by keyword or second."""
        using = argument(call, "using", 1)
        if using is None:
            return OnCommit(callback, DEFAULT_ALIAS, None, fixable_using=True)
        return OnCommit(callback, alias_text(self.module, using.value), using, fixable_using=True)

    def returns_none(self, node: cst.BaseExpression) -> bool:
        """A function of this module that never returns a value (so calling it yields None)."""
        found = self.resolve(node)
        if not isinstance(found, LocalFunction):
            return False
        function = found.node
        if function.decorators or function.asynchronous is not None:
            return False
        return not _returns_value(function.body)


def _returns_value(body: cst.BaseSuite) -> bool:
    """Whether a function body returns a value or yields (nested defs excluded)."""
    pending: list[cst.CSTNode] = [body]
    while pending:
        node = pending.pop()
        if isinstance(node, cst.Return) and node.value is not None:
            return True
        if isinstance(node, (cst.Yield, cst.Await)):
            return True
        if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            continue
        pending.extend(iter_children(node))
    return False


def _is_plain_task(node: cst.BaseExpression, receiver: Binding | None) -> bool:
    """A task object (``send_email``, ``tasks.send_email``), not a canvas or RQ job."""
    if isinstance(receiver, TaskDef):
        return receiver.kind == "celery"
    if isinstance(receiver, Canvas):
        return False
    return isinstance(node, (cst.Name, cst.Attribute)) and dotted_name(node) is not None


def _callback_argument(call: cst.Call) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is None and not arg.star:
            return arg.value
        if arg.keyword is not None and arg.keyword.value in ("func", "callback"):
            return arg.value
    return None


def _subscript_alias(module: cst.Module, node: cst.Subscript) -> str | None:
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return None
    return alias_text(module, node.slice[0].slice.value)


def _calls_on_commit(function: cst.FunctionDef) -> bool:
    return any(
        isinstance(node, cst.Call)
        and (
            (isinstance(node.func, cst.Name) and node.func.value == "on_commit")
            or (isinstance(node.func, cst.Attribute) and node.func.attr.value == "on_commit")
        )
        for node in iter_descendants(function.body)
    )
