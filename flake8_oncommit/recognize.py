"""What an expression is: an atomic block, an enqueue, an on_commit call, a view.

The :class:`Recognizer` owns the module's name table (:mod:`.names`) and
answers questions about single nodes; it keeps no walking state. The walker
in :mod:`.analysis` asks it, node by node, and decides what is a finding.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import PurePath

import libcst as cst

from . import libraries as lib
from .config import Config, matches_dotted
from .index import FunctionSummary, ProjectIndex, absolute_name
from .names import (
    LOCAL,
    AtomicContext,
    AtomicWrapper,
    Binding,
    Canvas,
    LocalFunction,
    Marker,
    NameTable,
    TaskDef,
    dotted_name,
    import_bindings,
    import_module_name,
    is_informative,
)
from .walk import iter_children, iter_descendants, parameter_names


@dataclass(frozen=True)
class AtomicBlock:
    """One atomic block the current code runs in.

    ``using`` is the database alias expression (None: the default database).
    ``using_portable`` is False when that expression cannot be repeated at
    the enqueue site (a class attribute named in a method decorator).
    ``request`` marks the implicit transaction of ATOMIC_REQUESTS.
    """

    using: cst.BaseExpression | None
    using_portable: bool = True
    request: bool = False
    #: on a read replica: a transaction that cannot write, so nothing to wait for
    read_only: bool = False


@dataclass(frozen=True)
class Enqueue:
    """A call recognised as sending a job."""

    library: str
    celery_twin: str | None = None


#: The alias of a registration that names no database.
DEFAULT_ALIAS = "default"


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


class Recognizer:
    """Answers "what is this node?" with the names of the module in view."""

    def __init__(
        self,
        config: Config,
        module: cst.Module,
        filename: str = "<string>",
        *,
        module_name: str | None = None,
        index: ProjectIndex | None = None,
    ) -> None:
        self.config = config
        self.module = module
        self.names = NameTable({}, [])
        self.imports_dramatiq = False
        self.module_names = module_names(filename)
        #: this file's dotted name, to turn relative imports into absolute names
        self.module_name = module_name
        self.is_package = PurePath(filename).stem == "__init__"
        self.index = index
        self._wrappers: dict[int, AtomicWrapper | None] = {}

    # -- the rest of the project --------------------------------------------------

    def project_function(self, found: Binding | None) -> FunctionSummary | None:
        """What the project index knows about an imported function (None: nothing)."""
        if self.index is None or not isinstance(found, str) or "." not in found:
            return None
        if found.split(".", 1)[0] in lib.NOT_PROJECT_PACKAGES or found in _KNOWN_NAMES:
            return None
        return self.index.function(found)

    def is_configured(self, found: Binding | None, configured: frozenset[str]) -> bool:
        """Whether a resolved name is one of the configured dotted names.

        A function defined in this very module matches through the module's
        own dotted name, guessed from the file path (``myapp/tasks.py``
        defines ``myapp.tasks.offload_task``).
        """
        if not configured or found is None:
            return False
        if isinstance(found, str):
            return matches_dotted(found, configured)
        if isinstance(found, LocalFunction):
            name = found.node.name.value
        elif isinstance(found, TaskDef):
            name = found.name
        else:
            return False
        return any(f"{module}.{name}" in configured for module in self.module_names)

    # -- binding ------------------------------------------------------------

    def bind(self, name: str, binding: Binding) -> None:
        scope = self.names.innermost
        if scope.kind == "module":
            # Module level was bound up front; later plain assignments never
            # erase what an import or a decorated def told us.
            existing = scope.bindings.get(name)
            if existing is not None and is_informative(existing) and not is_informative(binding):
                return
        scope.bindings[name] = binding

    def bind_target(self, target: cst.BaseExpression, binding: Binding) -> None:
        if isinstance(target, cst.Name):
            self.bind(target.value, binding)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self.bind_target(element.value, LOCAL)
        elif isinstance(target, cst.StarredElement):
            self.bind_target(target.value, LOCAL)

    def bind_import(self, node: cst.Import | cst.ImportFrom) -> None:
        if isinstance(node, cst.ImportFrom):
            module = import_module_name(node)
            if module.split(".", 1)[0] in ("dramatiq", "django_dramatiq"):
                self.imports_dramatiq = True
            if isinstance(node.names, cst.ImportStar):
                self.names.star_modules.append(module)
                return
        else:
            for alias in node.names:
                head = (dotted_name(alias.name) or "").split(".", 1)[0]
                if head in ("dramatiq", "django_dramatiq"):
                    self.imports_dramatiq = True
        for local, qualified in import_bindings(node):
            if qualified.startswith(".") and self.module_name:
                qualified = absolute_name(qualified, self.module_name, self.is_package)
            self.bind(local, qualified)

    def bind_statement(self, small: cst.BaseSmallStatement) -> None:
        """Bind what one simple statement binds (used for module level)."""
        if isinstance(small, (cst.Import, cst.ImportFrom)):
            self.bind_import(small)
        elif isinstance(small, cst.Assign):
            binding = self.value_binding(small.value)
            for target in small.targets:
                self.bind_target(target.target, binding)
        elif isinstance(small, cst.AnnAssign):
            binding = self.value_binding(small.value) if small.value is not None else LOCAL
            self.bind_target(small.target, binding)
        elif isinstance(small, cst.AugAssign):
            self.bind_target(small.target, LOCAL)

    def function_binding(self, node: cst.FunctionDef) -> Binding:
        for decorator in node.decorators:
            kind = self.task_kind(decorator.decorator)
            if kind is not None:
                return TaskDef(kind, node.name.value)
        return LocalFunction(node)

    def prescan_module(self) -> None:
        """Bind every module-level name first, so functions see later definitions.

        A task defined below the view that calls it is still a task. Only
        statements at module level (and inside module-level if/try/with
        blocks) are looked at; function and class bodies are not.
        """
        pending: list[cst.CSTNode] = list(reversed(self.module.body))
        while pending:
            statement = pending.pop()
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    self.bind_statement(small)
            elif isinstance(statement, cst.FunctionDef):
                self.bind(statement.name.value, self.function_binding(statement))
            elif isinstance(statement, cst.ClassDef):
                self.bind(statement.name.value, LOCAL)
            elif isinstance(statement, cst.If) and self._is_type_checking(statement.test):
                # Imports for type checkers only: the names do not exist at run time.
                for node in iter_descendants(statement.body):
                    if isinstance(node, (cst.Import, cst.ImportFrom)):
                        for local, _ in import_bindings(node):
                            self.bind(local, LOCAL)
                if statement.orelse is not None:
                    pending.extend(reversed(list(_nested_statements(statement.orelse))))
            elif isinstance(statement, _MODULE_LEVEL_BLOCKS):
                pending.extend(reversed(list(_nested_statements(statement))))

    def _is_type_checking(self, test: cst.BaseExpression) -> bool:
        return (self.qualified(test) or "").rsplit(".", 1)[-1] == "TYPE_CHECKING"

    # -- resolution ----------------------------------------------------------

    def resolve(self, node: cst.BaseExpression) -> Binding | None:
        """What a Name/Attribute chain refers to.

        A qualified name (str) for imports and for names nothing in the file
        binds (builtins, globals from star imports); a tracked object; or
        None when it is something the analysis cannot follow.
        """
        if isinstance(node, cst.Name):
            found = self.names.lookup(node.value)
            if found is not None:
                return found
            for module in self.names.star_modules:
                candidate = f"{module}.{node.value}"
                if _is_known_name(candidate):
                    return candidate
            # Nothing in the file binds it: a snippet or an unusual import.
            # ``transaction`` then can only be Django's.
            return lib.UNBOUND_NAMES.get(node.value, node.value)
        if isinstance(node, cst.Attribute):
            base = self.resolve(node.value)
            if isinstance(base, str):
                return f"{base}.{node.attr.value}"
            return None
        return None

    def qualified(self, node: cst.BaseExpression) -> str | None:
        found = self.resolve(node)
        return found if isinstance(found, str) else None

    def value_binding(self, value: cst.BaseExpression) -> Binding:
        """What assigning ``value`` to a name makes the name mean."""
        if isinstance(value, cst.Name) and self.names.lookup(value.value) is None:
            # ``x = None``, ``x = some_builtin``: nothing worth aliasing.
            return LOCAL
        if isinstance(value, (cst.Name, cst.Attribute)):
            found = self.resolve(value)
            return found if found is not None else LOCAL
        if isinstance(value, cst.Call):
            block = self.atomic_of(value)
            if block is not None:
                return AtomicContext(block.using)
            canvas = self.canvas_of(value)
            if canvas is not None:
                return canvas
            callee = self.qualified(value.func)
            if callee is not None:
                if callee in lib.DJANGO_Q_RUNNABLES:
                    return Marker("django-q")
                if callee in lib.SIGNAL_CLASSES:
                    return Marker("signal")
                if callee in lib.HUEY_CLASSES:
                    return Marker("huey")
            return LOCAL
        if isinstance(value, cst.IfExp):
            for branch in (value.body, value.orelse):
                binding = self.value_binding(branch)
                if isinstance(binding, (AtomicContext, Canvas)):
                    return binding
            return LOCAL
        if isinstance(value, cst.BinaryOperation):
            canvas = self.canvas_of(value)
            return canvas if canvas is not None else LOCAL
        return LOCAL

    # -- atomic blocks --------------------------------------------------------

    def atomic_of(self, node: cst.BaseExpression) -> AtomicBlock | None:
        """The atomic block ``node`` opens as a decorator or context manager."""
        if isinstance(node, cst.Call):
            found = self.resolve(node.func)
            wrapper = self.wrapper(found)
            if wrapper is not None:
                return self.block(wrapper.using)
            if self.is_atomic(found):
                return self.block(using_argument(node))
            return self._project_wrapper(found)
        found = self.resolve(node)
        if isinstance(found, AtomicContext):
            return self.block(found.using)
        wrapper = self.wrapper(found)
        if wrapper is not None:
            return self.block(wrapper.using)
        if self.is_atomic(found):
            return AtomicBlock(None)
        return self._project_wrapper(found)

    def _project_wrapper(self, found: Binding | None) -> AtomicBlock | None:
        """An atomic wrapper defined in another module of the project."""
        summary = self.project_function(found)
        if summary is None or not summary.wrapper:
            return None
        alias = summary.wrapper_using
        if alias is None:
            return self.block(None)
        literal = f'"{alias}"' if '"' not in alias and "\\" not in alias else repr(alias)
        return self.block(cst.SimpleString(literal))

    def wrapper(self, found: Binding | None) -> AtomicWrapper | None:
        """The module's own atomic wrapper that ``found`` is, if any.

        Worked out on first use as a decorator or context manager (most
        functions never are), and remembered.
        """
        if not isinstance(found, LocalFunction):
            return None
        key = id(found.node)
        if key in self._wrappers:
            return self._wrappers[key]
        self._wrappers[key] = None  # a wrapper built on itself is not one
        with self._inside(found.node):
            wrapper = self._wrapper_of(found.node)
        self._wrappers[key] = wrapper
        return wrapper

    @contextlib.contextmanager
    def _inside(self, function: cst.FunctionDef) -> Iterator[None]:
        """Resolve names as the function's own body does, wherever it is first used.

        Module scope plus the function's parameters and its own imports (a
        wrapper may import ``transaction`` inside); the scopes of the call
        site that asked do not apply.
        """
        names = self.names
        saved = names.scopes
        names.scopes = [saved[0]]
        scope = names.push("function")
        for parameter in parameter_names(function.params):
            scope.bindings[parameter] = LOCAL
        for node in iter_descendants(function.body):
            if isinstance(node, (cst.Import, cst.ImportFrom)):
                for local, qualified in import_bindings(node):
                    if qualified.startswith(".") and self.module_name:
                        qualified = absolute_name(qualified, self.module_name, self.is_package)
                    scope.bindings[local] = qualified
        try:
            yield
        finally:
            names.scopes = saved

    def block(self, using: cst.BaseExpression | None) -> AtomicBlock:
        """An atomic block on ``using``, read-only when that names a replica."""
        if using is None:
            return AtomicBlock(None)
        text = alias_text(self.module, using) or ""
        bare = text.strip("`")
        read_only = bool(lib.READ_ONLY_ALIAS.search(bare)) or any(
            bare == name or bare.endswith("." + name) for name in self.config.read_only_databases
        )
        return AtomicBlock(using, read_only=read_only)

    def _wrapper_of(self, function: cst.FunctionDef) -> AtomicWrapper | None:
        is_context = any(
            (self.qualified(d.decorator) or "").rsplit(".", 1)[-1]
            in ("contextmanager", "asynccontextmanager")
            for d in function.decorators
        )
        if is_context:
            block = self._atomic_around(function.body, _is_yield)
            return _wrapper(function, block)
        # A decorator: the decorated function (a parameter of this def or of a
        # def nested in it) is called, or wrapped, inside an atomic block.
        parameters = _parameters_within(function)
        if not parameters:
            return None

        def calls_parameter(node: cst.CSTNode) -> bool:
            if isinstance(node, cst.Call) and isinstance(node.func, cst.Name):
                return node.func.value in parameters
            return False

        block = self._atomic_around(function.body, calls_parameter)
        if block is None:
            block = self._atomic_applied_to(function.body, parameters)
        return _wrapper(function, block)

    def _atomic_around(self, body: cst.CSTNode, matches: Callable[[cst.CSTNode], bool]) -> AtomicBlock | None:
        """The atomic block (``with`` or atomic-decorated nested def) containing a matching node."""
        pending: list[tuple[cst.CSTNode, AtomicBlock | None]] = [(body, None)]
        while pending:
            node, block = pending.pop()
            if block is not None and matches(node):
                return block
            if isinstance(node, cst.With):
                for item in node.items:
                    block = self.atomic_of(item.item) or block
            elif isinstance(node, cst.FunctionDef):
                for decorator in node.decorators:
                    block = self.atomic_of(decorator.decorator) or block
            pending.extend((child, block) for child in iter_children(node))
        return None

    def _atomic_applied_to(self, body: cst.CSTNode, parameters: set[str]) -> AtomicBlock | None:
        """``return transaction.atomic(func)`` / ``atomic(using=x)(func)``."""
        for node in iter_descendants(body):
            if not isinstance(node, cst.Call) or not node.args:
                continue
            if not any(isinstance(a.value, cst.Name) and a.value.value in parameters for a in node.args):
                continue
            if isinstance(node.func, cst.Call):
                block = self.atomic_of(node.func)
                if block is not None:
                    return block
            elif self.is_atomic(self.resolve(node.func)):
                return AtomicBlock(None)
        return None

    def is_atomic(self, found: Binding | None) -> bool:
        return (isinstance(found, str) and found in lib.ATOMIC) or self.is_configured(
            found, self.config.atomic_wrappers
        )

    def method_decorated(self, node: cst.BaseExpression) -> cst.BaseExpression | None:
        """The decorator(s) inside ``method_decorator(...)``, else None."""
        if (
            isinstance(node, cst.Call)
            and self.qualified(node.func) in lib.METHOD_DECORATOR
            and node.args
            and node.args[0].keyword is None
        ):
            return node.args[0].value
        return None

    def atomic_decorator(self, node: cst.BaseExpression) -> AtomicBlock | None:
        """An atomic decorator on a function: plain or through method_decorator."""
        block = self.atomic_of(node)
        if block is not None:
            return block
        inner = self.method_decorated(node)
        return self.atomic_in_decorators(inner) if inner is not None else None

    def atomic_in_decorators(self, node: cst.BaseExpression) -> AtomicBlock | None:
        for element in _decorator_list(node):
            block = self.atomic_of(element)
            if block is not None:
                return block
        return None

    def is_non_atomic_requests(self, node: cst.BaseExpression) -> bool:
        """``@transaction.non_atomic_requests`` (any alias, called or not, via method_decorator)."""
        inner = self.method_decorated(node)
        candidates = list(_decorator_list(inner)) if inner is not None else [node]
        for candidate in candidates:
            target = candidate.func if isinstance(candidate, cst.Call) else candidate
            if self.qualified(target) in lib.NON_ATOMIC_REQUESTS:
                return True
        return False

    # -- tasks and enqueues ----------------------------------------------------

    def task_kind(self, decorator: cst.BaseExpression) -> str | None:
        """The kind of task a decorator makes, or None."""
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
                veto = self.project_function(receiver)
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
        summary = self.project_function(callee)
        if summary is not None and summary.task is not None:
            if summary.task == "huey":
                return Enqueue("huey")
            if summary.task == "transactional":
                return Enqueue("")
            return None  # calling a Celery/RQ/Dramatiq task directly runs it inline
        if not isinstance(func, cst.Attribute):
            return None
        summary = self.project_function(self.resolve(func.value))
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
            return callee is not None and callee in lib.DJANGO_Q_RUNNABLES
        return False

    # -- on_commit ---------------------------------------------------------------

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
            summary = self.project_function(found)
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


# --------------------------------------------------------------------------
# Helpers


_MODULE_LEVEL_BLOCKS = (
    cst.If,
    cst.Try,
    cst.TryStar,
    cst.With,
    cst.For,
    cst.While,
    cst.Else,
    cst.Finally,
    cst.ExceptHandler,
    cst.ExceptStarHandler,
)


def _nested_statements(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Statements directly inside a module-level compound statement."""
    for child in iter_children(node):
        if isinstance(child, (cst.IndentedBlock, cst.SimpleStatementSuite)):
            yield from child.body
        elif isinstance(child, (cst.Else, cst.Finally, cst.ExceptHandler, cst.ExceptStarHandler, cst.If)):
            yield child


def _wrapper(function: cst.FunctionDef, block: AtomicBlock | None) -> AtomicWrapper | None:
    """Only a literal alias means the same thing at the wrapper's call sites."""
    if block is None:
        return None
    using = block.using if isinstance(block.using, (cst.SimpleString, cst.ConcatenatedString)) else None
    return AtomicWrapper(function, using)


def _is_yield(node: cst.CSTNode) -> bool:
    return isinstance(node, cst.Yield)


def _parameters_within(function: cst.FunctionDef) -> set[str]:
    """Parameter names of ``function`` and of the defs nested in it (decorator factories)."""
    from .walk import parameter_names

    names = parameter_names(function.params)
    for node in iter_descendants(function.body):
        if isinstance(node, cst.FunctionDef):
            names |= parameter_names(node.params)
    # ``*args``/``**kwargs`` of the wrapper are not the decorated function.
    return {name for name in names if name not in ("self", "cls", "args", "kwargs", "a", "kw")}


def module_names(filename: str) -> tuple[str, ...]:
    """Dotted names this file may be imported as: ``a/b/c.py`` -> ``c``, ``b.c``, ``a.b.c``."""
    path = PurePath(filename)
    parts = [*path.parts[:-1], path.stem]
    if parts and parts[-1] == "__init__":
        parts.pop()
    parts = [part for part in parts if part.isidentifier()]
    return tuple(".".join(parts[index:]) for index in range(len(parts) - 1, -1, -1))


def _decorator_list(node: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    """``[a, b]`` / ``(a, b)`` as given to method_decorator, or the one decorator."""
    if isinstance(node, (cst.List, cst.Tuple)):
        for element in node.elements:
            yield element.value
    else:
        yield node


def argument(call: cst.Call, keyword: str, position: int) -> cst.Arg | None:
    """The argument a parameter receives: by keyword, or at ``position``."""
    positional = []
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg
        if arg.keyword is None:
            if arg.star:
                return None  # ``*args``: cannot tell
            positional.append(arg)
    return positional[position] if len(positional) > position else None


def using_argument(call: cst.Call) -> cst.BaseExpression | None:
    """``using`` of ``atomic(using=None, savepoint=True, durable=False)``."""
    found = argument(call, "using", 0)
    return found.value if found is not None else None


def _callback_argument(call: cst.Call) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is None and not arg.star:
            return arg.value
        if arg.keyword is not None and arg.keyword.value in ("func", "callback"):
            return arg.value
    return None


def string_value(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def alias_text(module: cst.Module, node: cst.BaseExpression | None) -> str | None:
    """A database alias as comparable text: a literal's value, or the expression's code.

    ``None`` (the expression) and ``DEFAULT_DB_ALIAS`` mean the default database.
    """
    if node is None:
        return DEFAULT_ALIAS
    literal = string_value(node)
    if literal is not None:
        return literal
    if isinstance(node, cst.Name) and node.value == "None":
        return DEFAULT_ALIAS
    code = dotted_name(node)
    if code is not None and code.rsplit(".", 1)[-1] == "DEFAULT_DB_ALIAS":
        return DEFAULT_ALIAS
    return "`" + module.code_for_node(node).strip() + "`"


def is_literal_alias(text: str | None) -> bool:
    return text is not None and not text.startswith("`")


def _subscript_alias(module: cst.Module, node: cst.Subscript) -> str | None:
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return None
    return alias_text(module, node.slice[0].slice.value)


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


def describe_callee(node: cst.BaseExpression, depth: int = 0) -> str:
    """A short name for a called expression in messages: ``send_email.delay``."""
    name = dotted_name(node)
    if name is not None:
        return name
    if depth > 2:
        return "..."
    if isinstance(node, cst.Attribute):
        return f"{describe_callee(node.value, depth + 1)}.{node.attr.value}"
    if isinstance(node, cst.Call):
        return f"{describe_callee(node.func, depth + 1)}(...)"
    return "(...)"


_KNOWN_NAMES: frozenset[str] = (
    frozenset(lib.UNBOUND_NAMES.values())
    | lib.ATOMIC
    | lib.ON_COMMIT_FUNCTIONS
    | lib.METHOD_DECORATOR
    | lib.NON_ATOMIC_REQUESTS
    | frozenset(lib.ENQUEUE_FUNCTIONS)
    | lib.CELERY_CANVAS_MULTI
    | lib.CELERY_SIGNATURE
    | lib.DJANGO_Q_RUNNABLES
    | lib.HUEY_TASK_DECORATORS
    | lib.DRAMATIQ_ACTOR_DECORATORS
    | lib.RQ_JOB_DECORATORS
    | lib.DEFAULT_CONNECTIONS
)


def _is_known_name(qualified: str) -> bool:
    """Whether a star import could have provided a name the analysis cares about."""
    if qualified in _KNOWN_NAMES:
        return True
    return qualified.rsplit(".", 1)[-1] in lib.ENQUEUE_FUNCTION_NAMES
