"""Enqueues and deferrals: what sends a job now, and what waits for the commit.

The libraries' spellings are data (:mod:`.queues`, one entry each); this
module reads them: which decorators make tasks, which calls send a job now
(methods of tasks, queues, schedulers and runnables, functions, canvases),
which wait (transactional tasks, rows written through Django's own
connection, commit-aware twins); configured project functions and methods;
tasks of the project's other modules (through the index); and the
``on_commit`` calls (any spelling, configured or discovered deferrers) whose
arguments are deferred.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from . import libraries as lib
from .names import (
    COMMIT_AWARE_TASK_BASE,
    Binding,
    Canvas,
    LocalClass,
    LocalFunction,
    LocalInstance,
    Marker,
    TaskDef,
    dotted_name,
)
from .queues import BY_KIND, LIBRARIES, Kind, QueueLibrary
from .resolution import DEFAULT_ALIAS, Resolver, alias_text, argument
from .walk import block_body, iter_children, iter_descendants


@dataclass(frozen=True)
class Enqueue:
    """A call recognised as sending a job.

    ``row_alias``: the job is a row written through Django's connection to
    that database, so it waits for a block on that database (and only such
    a block).
    """

    library: Kind
    celery_twin: str | None = None
    row_alias: str | None = None


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
    #: a library's commit-aware send (``task.delay_on_commit``): it registers on the default database
    twin: str | None = None


def app_marker(kind: Kind) -> Marker:
    """A value bound to a library's app object (``huey = RedisHuey()``, ``app = App(...)``)."""
    return Marker(f"app:{kind.value}")


def runnable_marker(kind: Kind) -> Marker:
    """A value whose ``.run()`` sends (``batch = AsyncTask(...)``, ``g = dramatiq.group([...])``)."""
    return Marker(f"runnable:{kind.value}")


def scheduler_marker(kind: Kind) -> Marker:
    """A value whose scheduling methods send (``scheduler = Scheduler(...)``)."""
    return Marker(f"scheduler:{kind.value}")


#: A value made by something that is no queue (a thread pool's ``apply_async``).
NOT_A_QUEUE = Marker("not-a-queue")


def _turned_off(decorator: cst.BaseExpression, keywords: frozenset[str]) -> bool:
    """Whether the decorator call passes one of ``keywords`` a literal ``False``."""
    return isinstance(decorator, cst.Call) and any(
        arg.keyword is not None
        and arg.keyword.value in keywords
        and isinstance(arg.value, cst.Name)
        and arg.value.value == "False"
        for arg in decorator.args
    )


class EnqueueRecognizer(Resolver):
    """Which calls send a job, which defer one, and what a decorator makes a task."""

    # -- tasks --------------------------------------------------------------

    def task_def(self, decorator: cst.BaseExpression, name: str) -> TaskDef | None:
        """The task a decorator makes of the function ``name``, or None."""
        if isinstance(decorator, cst.Call):
            base = next((arg for arg in decorator.args if arg.keyword and arg.keyword.value == "base"), None)
            if base is not None and self.is_commit_aware_base(base.value):
                return TaskDef(Kind.TRANSACTIONAL, name)
        target = decorator.func if isinstance(decorator, cst.Call) else decorator
        found = self.resolve(target)
        if self.is_configured(found, self.config.transactional_queues):
            return TaskDef(Kind.TRANSACTIONAL, name)
        qualified = found if isinstance(found, str) else None
        if qualified is not None:
            last = qualified.rsplit(".", 1)[-1]
            for library in LIBRARIES:
                if qualified in library.transactional_decorators:
                    if _turned_off(decorator, library.immediate_when_false):
                        return TaskDef(library.kind, name)  # a task of the library that sends at once
                    return TaskDef(Kind.TRANSACTIONAL, name)
                if qualified in library.task_decorators or (
                    last in library.loose_task_decorators and library.kind in self.imported
                ):
                    return TaskDef(library.kind, name)
        if isinstance(target, cst.Attribute):
            method = target.attr.value
            receiver = self.resolve(target.value)
            for library in LIBRARIES:
                if method in library.app_task_methods and self._is_app(receiver, library):
                    return TaskDef(library.kind, name, self._row_alias(receiver, library))
        if qualified is not None and self.project_own_queue(qualified):
            # The project's own queue (awx's ``@task(queue=...)``): how its ``delay()`` delivers
            # is its own code's business; counted as a queue whose sends wait (precision first).
            return TaskDef(Kind.TRANSACTIONAL, name)
        return None

    def _is_app(self, receiver: Binding | None, library: QueueLibrary) -> bool:
        if receiver == app_marker(library.kind):
            return True
        if isinstance(receiver, str):
            if receiver in library.app_instances or receiver in library.app_classes:
                return True
            hint = library.app_name_hint
            if hint is not None and hint in receiver.rsplit(".", 1)[-1].lower():
                return True
        return library.any_app

    @staticmethod
    def _row_alias(receiver: Binding | None, library: QueueLibrary) -> str | None:
        return library.row_apps.get(receiver) if isinstance(receiver, str) else None

    def task_class_binding(self, node: cst.ClassDef) -> Binding:
        """What a module-level class is: a commit-aware Celery Task base, a task class, or a plain class.

        pretix-style ``class TransactionAwareTask(Task)`` whose ``apply_async``
        hands the send to ``on_commit`` (``delay`` goes through it too), or a
        subclass of one that does not override ``apply_async`` again. A
        Dramatiq ``GenericActor`` subclass is an actor.
        """
        body = block_body(node)
        for statement in body:
            if isinstance(statement, cst.FunctionDef) and statement.name.value == "apply_async":
                return COMMIT_AWARE_TASK_BASE if _calls_on_commit(statement) else LocalClass(node)
        if any(self.is_commit_aware_base(base.value) for base in node.bases):
            return COMMIT_AWARE_TASK_BASE
        for base in node.bases:
            found = self.qualified(base.value)
            for library in LIBRARIES:
                if found is not None and found in library.task_base_classes:
                    return TaskDef(library.kind, node.name.value)
        return LocalClass(node)

    def value_marker(self, callee: str) -> Marker | None:
        """What calling ``callee`` (qualified) makes, when it is a library's app, runnable or scheduler."""
        if callee.split(".", 1)[0] in lib.NOT_QUEUE_PACKAGES:
            return NOT_A_QUEUE
        for library in LIBRARIES:
            if callee in library.app_classes:
                return app_marker(library.kind)
            if callee in library.runnables and not self.is_configured(
                callee, self.config.transactional_queues
            ):
                return runnable_marker(library.kind)
            if callee in library.schedulers:
                return scheduler_marker(library.kind)
        return None

    def is_look_alike(self, receiver: cst.BaseExpression, method: str) -> bool:
        """``backoff.delay(3)``: a method of a plain class of this module, not a queue's.

        The receiver is an instance of a class defined here (``x = Cls()``,
        ``Cls().m()``) that defines ``method`` itself or through bases also
        defined here, and derives from nothing else (no Task, no Queue).
        """
        found = self.resolve(receiver.func) if isinstance(receiver, cst.Call) else self.resolve(receiver)
        if isinstance(found, LocalClass) and isinstance(receiver, cst.Call):
            cls = found.node
        elif isinstance(found, LocalInstance):
            cls = found.cls
        else:
            return False
        return self._plain_class_defines(cls, method, 0)

    def _plain_class_defines(self, cls: cst.ClassDef, method: str, depth: int) -> bool:
        if depth > 10:
            return False
        body = block_body(cls)
        defines = any(isinstance(item, cst.FunctionDef) and item.name.value == method for item in body)
        bases: list[cst.ClassDef] = []
        for base in cls.bases:
            if base.keyword is not None:
                continue
            found = self.resolve(base.value)
            if isinstance(found, LocalClass):
                bases.append(found.node)
            elif found != "object":
                return False  # derives from something this module does not show
        return defines or any(self._plain_class_defines(base, method, depth + 1) for base in bases)

    def is_commit_aware_base(self, node: cst.BaseExpression) -> bool:
        """A Task class (``base=`` of a task decorator) whose sends wait for the commit."""
        found = self.resolve(node)
        if found == COMMIT_AWARE_TASK_BASE or self.is_configured(found, self.config.transactional_queues):
            return True
        return isinstance(found, str) and self.project_commit_aware_task_base(found)

    # -- canvases ------------------------------------------------------------

    def canvas_of(self, node: cst.BaseExpression) -> Canvas | None:
        """A signature or composite built now and sent later (``task.s()``, ``chain(...)``)."""
        if isinstance(node, cst.Call):
            func = node.func
            callee = self.qualified(func)
            for library in LIBRARIES:
                if callee is not None and callee in library.composite_constructors:
                    return Canvas(multi=True)
                if callee is not None and callee in library.signature_constructors:
                    return Canvas(multi=False)
                if isinstance(func, cst.Attribute):
                    if func.attr.value in library.signature_methods:
                        return Canvas(multi=False)
                    if func.attr.value in library.composite_methods:
                        return Canvas(multi=True)
            return None
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
            if any(library.pipes for library in LIBRARIES) and (
                self.canvas_of(node.left) is not None or self.canvas_of(node.right) is not None
            ):
                return Canvas(multi=True)
            return None
        if isinstance(node, cst.Name):
            found = self.resolve(node)
            return found if isinstance(found, Canvas) else None
        return None

    # -- sends ---------------------------------------------------------------

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
                return found if found.library is not Kind.TRANSACTIONAL else None
        if isinstance(func, cst.Attribute):
            found = self._method_send(func)
            if found is not None:
                return found if found.library is not Kind.TRANSACTIONAL else None
        if self.is_configured(callee, config.enqueue_functions):
            return Enqueue(Kind.PROJECT)
        if isinstance(callee, TaskDef):
            return (
                Enqueue(callee.kind, row_alias=callee.row_alias) if BY_KIND[callee.kind].call_sends else None
            )
        if isinstance(callee, str):
            last = callee.rsplit(".", 1)[-1]
            for library in LIBRARIES:
                if callee in library.send_functions or last in library.send_function_names:
                    return Enqueue(library.kind)
        canvas = self.canvas_of(func)
        if canvas is not None and canvas.multi:
            return Enqueue(Kind.CELERY)
        return None

    def _method_send(self, func: cst.Attribute) -> Enqueue | None:
        """``<receiver>.<method>(...)``: a send, ``Enqueue(TRANSACTIONAL)`` for one that waits, or None."""
        method = func.attr.value
        if self.is_look_alike(func.value, method):
            return None
        receiver = self.resolve(func.value)
        if receiver == NOT_A_QUEUE or self._made_by_no_queue(func.value):
            return None
        if isinstance(receiver, TaskDef) and receiver.kind is Kind.TRANSACTIONAL:
            return Enqueue(Kind.TRANSACTIONAL)
        if self.is_configured(receiver, self.config.transactional_queues):
            return Enqueue(Kind.TRANSACTIONAL)
        task = self._task_of(func.value, receiver)
        for library in LIBRARIES:
            if method in library.any_receiver_methods:
                veto = self.project_function(receiver, "task")
                if veto is not None and veto.task == Kind.TRANSACTIONAL.value:
                    return Enqueue(Kind.TRANSACTIONAL)  # a task of another module whose sends wait
                if task is None and not self._library_in_use(library, receiver):
                    continue  # a method of the project's own (awx's ``task_cls.apply_async()``)
                twin = library.commit_aware_twins.get(method)
                if twin is not None and not _is_plain_task(func.value, receiver):
                    twin = None
                return Enqueue(library.kind, twin, task.row_alias if task is not None else None)
        if method in self.config.enqueue_methods:
            return Enqueue(Kind.PROJECT)
        for library in LIBRARIES:
            if method in library.task_send_methods and task is not None and task.kind is library.kind:
                return Enqueue(library.kind, row_alias=task.row_alias)
            if method == "run" and self._is_runnable(func.value, receiver, library):
                return Enqueue(library.kind)
            if method in library.scheduler_methods and self._is_scheduler(func.value, receiver, library):
                return Enqueue(library.kind)
        if method in BY_KIND[Kind.DRAMATIQ].task_send_methods and self._loose_actor(receiver):
            return Enqueue(Kind.DRAMATIQ)
        return None

    def _library_in_use(self, library: QueueLibrary, receiver: Binding | None) -> bool:
        """Whether ``<receiver>.delay()`` of unknown type may be ``library``'s: the project may send
        through it (:meth:`.ProjectIndex.sends_through`), or the receiver comes from an installed
        package (which may). A project that sends its own way or through other libraries and never
        imports Celery: its ``task_cls.apply_async()`` or ``JobResult.enqueue_job()`` is a method of
        its own. Without a project scan every library is taken as used."""
        index = self.index
        if index is None or index.sends_through(library.kind.value):
            return True
        return (
            isinstance(receiver, str)
            and "." in receiver
            and not (lib.is_project_name(receiver) and index.in_project(receiver))
        )

    def _task_of(self, node: cst.BaseExpression, receiver: Binding | None) -> TaskDef | None:
        """The task a receiver is: this module's, a configured copy of one, one of an app, or none."""
        if isinstance(receiver, TaskDef):
            return receiver
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            method = node.func.attr.value
            inner = self.resolve(node.func.value)
            for library in LIBRARIES:
                if method in library.task_copy_methods:
                    task = self._task_of(node.func.value, inner)
                    if task is not None and task.kind is library.kind:
                        return task
                if method in library.app_deferrer_methods and self._is_app(inner, library):
                    return TaskDef(library.kind, "", self._row_alias(inner, library))
        return None

    def _is_runnable(self, node: cst.BaseExpression, receiver: Binding | None, library: QueueLibrary) -> bool:
        if receiver == runnable_marker(library.kind):
            return True
        if isinstance(node, cst.Call):
            callee = self.qualified(node.func)
            return callee is not None and self.value_marker(callee) == runnable_marker(library.kind)
        return False

    def _is_scheduler(
        self, node: cst.BaseExpression, receiver: Binding | None, library: QueueLibrary
    ) -> bool:
        if receiver == scheduler_marker(library.kind):
            return True
        if isinstance(node, cst.Call):
            callee = self.qualified(node.func)
            return callee is not None and callee in library.schedulers
        return False

    def _made_by_no_queue(self, node: cst.BaseExpression) -> bool:
        """``ThreadPool(4).apply_async(...)``: the receiver is made by a module that is no queue."""
        if not isinstance(node, cst.Call):
            return False
        callee = self.qualified(node.func)
        return callee is not None and callee.split(".", 1)[0] in lib.NOT_QUEUE_PACKAGES

    def _loose_actor(self, receiver: Binding | None) -> bool:
        """An imported name's ``.send()`` in a file that imports Dramatiq: an actor, unless it is a signal.

        The project index, when it knows the name, decides; names from a
        ``signals`` module, Django's signal classes and names ending in
        ``signal`` are never actors.
        """
        if Kind.DRAMATIQ not in self.imported or not isinstance(receiver, str):
            return False
        if receiver in lib.SIGNAL_CLASSES or receiver.startswith(lib.SIGNAL_MODULES):
            return False
        parts = receiver.split(".")
        if any(part in ("signals", "signal") for part in parts[:-1]):
            return False
        last = parts[-1].lower()
        if last.endswith("signal") or last in ("self", "cls"):
            return False
        summary = self.project_function(receiver, "task")
        if summary is not None:
            return summary.task == Kind.DRAMATIQ.value
        return self.index is None or self.project_module_unknown(receiver)

    def _project_enqueue(self, func: cst.BaseExpression, callee: Binding | None) -> Enqueue | None:
        """Tasks and actors defined in other modules.

        Returns None when the index has nothing to say, ``Enqueue(TRANSACTIONAL)``
        when the call certainly sends nothing now (a transactional task).
        """
        summary = self.project_function(callee, "task")
        if summary is not None and summary.task is not None:
            kind = Kind(summary.task)
            if kind is Kind.TRANSACTIONAL:
                return Enqueue(Kind.TRANSACTIONAL)
            if BY_KIND[kind].call_sends:
                return Enqueue(kind)
            return None  # calling a Celery/RQ/Dramatiq task directly runs it inline
        if not isinstance(func, cst.Attribute):
            return None
        if func.attr.value not in _SEND_METHODS and func.attr.value not in self.config.enqueue_methods:
            # ``Order.objects.create()``: no library sends with that method, so what the
            # receiver is does not matter (and its module need not be summarised).
            return None
        receiver = self.resolve(func.value)
        if self.is_configured(receiver, self.config.transactional_queues):
            return Enqueue(Kind.TRANSACTIONAL)  # a task the configuration says waits for the commit
        summary = self.project_function(receiver, "task")
        if summary is None or summary.task is None:
            return None
        kind = Kind(summary.task)
        if kind is Kind.TRANSACTIONAL:
            return Enqueue(Kind.TRANSACTIONAL)
        library = BY_KIND[kind]
        method = func.attr.value
        if method in library.task_send_methods:
            return Enqueue(kind, row_alias=summary.task_row_alias)
        if method in library.any_receiver_methods:
            return Enqueue(kind, row_alias=summary.task_row_alias)  # no *_on_commit twin known there
        return None

    def on_commit_of(self, call: cst.Call, *, deep: bool = False) -> OnCommit | None:
        """``transaction.on_commit``, ``connection(s[..]).on_commit``, safe deferrers.

        ``deep`` also asks the project index for functions that defer.
        """
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value in _COMMIT_AWARE_METHODS:
            # Celery's DjangoTask: ``transaction.on_commit(partial(self.delay, ...))``, no ``using``.
            return OnCommit(None, DEFAULT_ALIAS, None, fixable_using=False, twin=func.attr.value)
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


#: Commit-aware sends of the libraries (``delay_on_commit``): ``on_commit`` on the default database.
_COMMIT_AWARE_METHODS = frozenset(
    twin for library in LIBRARIES for twin in library.commit_aware_twins.values()
)


def _is_plain_task(node: cst.BaseExpression, receiver: Binding | None) -> bool:
    """A task object (``send_email``, ``tasks.send_email``), not a canvas or RQ job: it has the twin."""
    if isinstance(receiver, TaskDef):
        return receiver.kind is Kind.CELERY
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


#: Every method through which some library sends a job: a call with another method name
#: needs nothing from the project index about its receiver.
_SEND_METHODS = frozenset(
    method
    for library in LIBRARIES
    for method in (*library.task_send_methods, *library.any_receiver_methods, *library.scheduler_methods)
) | {"run"}
