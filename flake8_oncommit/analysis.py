"""The one analysis: libcst tree in, findings out.

A single walk over the tree keeps three pieces of context:

* the import/alias table (:mod:`.names`), so ``tx.atomic``, ``db_atomic`` or
  ``django.db.transaction.atomic`` are recognised and a parameter named
  ``transaction`` is not;
* the stack of atomic blocks the current code runs in. A decorated function
  body, a ``with`` body, or a method covered by ``method_decorator`` opens
  one; a nested ``def``, ``lambda`` or ``class`` body closes them all,
  because that code does not run there;
* how deep the walk is inside the arguments of an ``on_commit`` call
  (everything there is deferred).

The walk does not use libcst's visitor protocol: for a read-only pass that
protocol rebuilds every node and costs about as much as the parse itself.
Instead, a small dispatcher handles the node types that matter and descends
through the fields of the others, skipping whitespace.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import libcst as cst

from . import libraries as lib
from .config import DEFAULT_CONFIG, Config, matches_dotted
from .findings import DeferCall, RawFinding
from .positions import locate
from .names import (
    LOCAL,
    AtomicContext,
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
from .rules import RULES

# --------------------------------------------------------------------------
# Generic traversal


_SKIPPED_FIELDS = frozenset(
    {
        "lpar",
        "rpar",
        "comma",
        "semicolon",
        "leading_lines",
        "lines_after_decorators",
        "header",
        "footer",
        "newline",
        "equal",
        "colon",
        "first_colon",
        "second_colon",
        "indent",
        "operator",
        "asynchronous",
        "dot",
        "lbrace",
        "rbrace",
        "lbracket",
        "rbracket",
        "trailing_whitespace",
        "leading_whitespace",
        "star",
        "posonly_ind",
        "separator",
        "trailing_comma",
        "comment",
        "empty_lines",
        "first_line",
        "last_line",
        "default_indent",
        "default_newline",
        "encoding",
        "has_trailing_newline",
        "conversion",
        "annotation",
        "returns",
        "type_parameters",
    }
)
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def child_fields(cls: type) -> tuple[str, ...]:
    """The fields of a node class that can hold code (not whitespace)."""
    names = _CHILD_FIELDS.get(cls)
    if names is None:
        names = tuple(
            f.name
            for f in dataclasses.fields(cls)
            if f.name not in _SKIPPED_FIELDS and not f.name.startswith("whitespace")
        )
        _CHILD_FIELDS[cls] = names
    return names


def iter_children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    for name in child_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            yield value
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, cst.CSTNode):
                    yield item


# --------------------------------------------------------------------------
# Context records


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


@dataclass
class ClassInfo:
    """What ``method_decorator(atomic, name=...)`` on a class covers."""

    atomic_methods: frozenset[str] = frozenset()
    all_methods: bool = False
    block: AtomicBlock | None = None


#: Methods that run before or outside ``dispatch``.
_OUTSIDE_DISPATCH = frozenset({"__init__", "__new__", "__init_subclass__", "setup", "as_view"})


@dataclass(frozen=True)
class Enqueue:
    """A call recognised as sending a job."""

    library: str
    celery_twin: str | None = None


@dataclass
class Analysis:
    """The outcome of analysing one module."""

    module: cst.Module
    findings: list[RawFinding] = field(default_factory=list)
    #: every module-level name and what it means
    module_bindings: dict[str, Binding] = field(default_factory=dict)


# --------------------------------------------------------------------------
# The analyser


class Analyzer:
    """Walks one module once and collects raw findings."""

    def __init__(
        self,
        module: cst.Module,
        config: Config = DEFAULT_CONFIG,
        *,
        legacy_async: frozenset[tuple[int, int]] = frozenset(),
    ) -> None:
        self.module = module
        self.config = config
        self.legacy_async = legacy_async
        self.findings: list[RawFinding] = []
        self.blocks: list[AtomicBlock] = []
        self.deferred = 0
        self.statement_value: cst.BaseExpression | None = None
        self.classes: list[ClassInfo] = []
        self.imports_dramatiq = False
        self.names = NameTable({}, [])
        self._dispatch: dict[type, Callable[[cst.CSTNode], None]] = {
            cst.FunctionDef: self._visit_function,  # type: ignore[dict-item]
            cst.ClassDef: self._visit_class,  # type: ignore[dict-item]
            cst.Lambda: self._visit_lambda,  # type: ignore[dict-item]
            cst.With: self._visit_with,  # type: ignore[dict-item]
            cst.Call: self._visit_call,  # type: ignore[dict-item]
            cst.Expr: self._visit_expr,  # type: ignore[dict-item]
            cst.Import: self._visit_import,  # type: ignore[dict-item]
            cst.ImportFrom: self._visit_import,  # type: ignore[dict-item]
            cst.Assign: self._visit_assign,  # type: ignore[dict-item]
            cst.AnnAssign: self._visit_annassign,  # type: ignore[dict-item]
            cst.AugAssign: self._visit_augassign,  # type: ignore[dict-item]
            cst.For: self._visit_for,  # type: ignore[dict-item]
            cst.NamedExpr: self._visit_namedexpr,  # type: ignore[dict-item]
            cst.ExceptHandler: self._visit_except,  # type: ignore[dict-item]
            cst.ListComp: self._visit_comprehension,  # type: ignore[dict-item]
            cst.SetComp: self._visit_comprehension,  # type: ignore[dict-item]
            cst.DictComp: self._visit_comprehension,  # type: ignore[dict-item]
            cst.GeneratorExp: self._visit_comprehension,  # type: ignore[dict-item]
        }

    # -- entry point ---------------------------------------------------------

    def run(self) -> Analysis:
        self._prescan_module()
        for statement in self.module.body:
            self.walk(statement)
        return Analysis(self.module, self.findings, self.names.scopes[0].bindings)

    def walk(self, node: cst.CSTNode) -> None:
        handler = self._dispatch.get(type(node))
        if handler is not None:
            handler(node)
        else:
            self.walk_children(node)

    def walk_children(self, node: cst.CSTNode) -> None:
        for name in child_fields(type(node)):
            value = getattr(node, name)
            if isinstance(value, cst.CSTNode):
                self.walk(value)
            elif isinstance(value, (list, tuple)):
                for item in value:
                    if isinstance(item, cst.CSTNode):
                        self.walk(item)

    def walk_all(self, nodes: Sequence[cst.CSTNode]) -> None:
        for node in nodes:
            self.walk(node)

    # -- module-level names, before anything else ----------------------------

    def _prescan_module(self) -> None:
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
                    self._bind_statement(small)
            elif isinstance(statement, cst.FunctionDef):
                self._bind(statement.name.value, self._function_binding(statement))
            elif isinstance(statement, cst.ClassDef):
                self._bind(statement.name.value, LOCAL)
            elif isinstance(statement, (cst.If, cst.Try, cst.With, cst.For, cst.While, cst.Else, cst.Finally, cst.ExceptHandler, cst.TryStar, cst.ExceptStarHandler)):
                pending.extend(reversed(list(_nested_statements(statement))))

    def _bind_statement(self, small: cst.BaseSmallStatement) -> None:
        if isinstance(small, (cst.Import, cst.ImportFrom)):
            self._bind_import(small)
        elif isinstance(small, cst.Assign):
            binding = self._value_binding(small.value)
            for target in small.targets:
                self._bind_target(target.target, binding)
        elif isinstance(small, cst.AnnAssign):
            binding = self._value_binding(small.value) if small.value is not None else LOCAL
            self._bind_target(small.target, binding)
        elif isinstance(small, cst.AugAssign):
            self._bind_target(small.target, LOCAL)

    # -- binding ------------------------------------------------------------

    def _bind(self, name: str, binding: Binding) -> None:
        scope = self.names.innermost
        if scope.kind == "module":
            # Module level was bound up front; later plain assignments never
            # erase what an import or a decorated def told us.
            existing = scope.bindings.get(name)
            if existing is not None and is_informative(existing) and not is_informative(binding):
                return
        scope.bindings[name] = binding

    def _bind_target(self, target: cst.BaseExpression, binding: Binding) -> None:
        if isinstance(target, cst.Name):
            self._bind(target.value, binding)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind_target(element.value, LOCAL)
        elif isinstance(target, cst.StarredElement):
            self._bind_target(target.value, LOCAL)

    def _bind_import(self, node: cst.Import | cst.ImportFrom) -> None:
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
            self._bind(local, qualified)

    def _function_binding(self, node: cst.FunctionDef) -> Binding:
        for decorator in node.decorators:
            kind = self._task_kind(decorator.decorator)
            if kind is not None:
                return TaskDef(kind, node.name.value)
        return LocalFunction(node)

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

    def _value_binding(self, value: cst.BaseExpression) -> Binding:
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
            canvas = self._canvas_of(value)
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
                binding = self._value_binding(branch)
                if isinstance(binding, (AtomicContext, Canvas)):
                    return binding
            return LOCAL
        if isinstance(value, cst.BinaryOperation):
            canvas = self._canvas_of(value)
            return canvas if canvas is not None else LOCAL
        return LOCAL

    # -- what things are -----------------------------------------------------

    def atomic_of(self, node: cst.BaseExpression) -> AtomicBlock | None:
        """The atomic block ``node`` opens as a decorator or context manager."""
        if isinstance(node, cst.Call):
            callee = self.qualified(node.func)
            if callee is not None and self._is_atomic_name(callee):
                return AtomicBlock(_using_argument(node))
            return None
        found = self.resolve(node)
        if isinstance(found, AtomicContext):
            return AtomicBlock(found.using)
        if isinstance(found, str) and self._is_atomic_name(found):
            return AtomicBlock(None)
        return None

    def _is_atomic_name(self, qualified: str) -> bool:
        return qualified in lib.ATOMIC or matches_dotted(qualified, self.config.atomic_wrappers)

    def _atomic_decorator(self, node: cst.BaseExpression) -> AtomicBlock | None:
        """An atomic decorator on a function: plain or through method_decorator."""
        block = self.atomic_of(node)
        if block is not None:
            return block
        if isinstance(node, cst.Call) and self.qualified(node.func) in lib.METHOD_DECORATOR:
            if node.args and node.args[0].keyword is None:
                return self._atomic_in_decorator_list(node.args[0].value)
        return None

    def _atomic_in_decorator_list(self, node: cst.BaseExpression) -> AtomicBlock | None:
        if isinstance(node, (cst.List, cst.Tuple)):
            for element in node.elements:
                block = self.atomic_of(element.value)
                if block is not None:
                    return block
            return None
        return self.atomic_of(node)

    def _task_kind(self, decorator: cst.BaseExpression) -> str | None:
        """The kind of task a decorator makes, or None."""
        target = decorator.func if isinstance(decorator, cst.Call) else decorator
        qualified = self.qualified(target)
        config = self.config
        if qualified is not None:
            if matches_dotted(qualified, config.transactional_queues):
                return "transactional"
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
                isinstance(receiver, str) and "huey" in receiver.rsplit(".", 1)[-1].lower()
            ):
                return "huey"
            if isinstance(receiver, str) and receiver in lib.HUEY_CLASSES:
                return "huey"
        if isinstance(target, cst.Attribute) and target.attr.value in ("task", "shared_task"):
            return "celery"
        return None

    def _canvas_of(self, node: cst.BaseExpression) -> Canvas | None:
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
            if self._canvas_of(node.left) is not None or self._canvas_of(node.right) is not None:
                return Canvas(multi=True)
            return None
        if isinstance(node, cst.Name):
            found = self.resolve(node)
            return found if isinstance(found, Canvas) else None
        return None

    def enqueue_of(self, call: cst.Call) -> Enqueue | None:
        """Whether ``call`` sends a job right now, and through which library."""
        func = call.func
        config = self.config
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            receiver = self.resolve(func.value)
            if isinstance(receiver, TaskDef) and receiver.kind == "transactional":
                return None
            if isinstance(receiver, str) and matches_dotted(receiver, config.transactional_queues):
                return None
            library = lib.ENQUEUE_METHODS.get(method)
            if library is not None:
                if method in lib.CELERY_ON_COMMIT_TWIN and _is_plain_task(func.value, receiver):
                    return Enqueue("celery", lib.CELERY_ON_COMMIT_TWIN[method])
                return Enqueue(library)
            if method in config.enqueue_methods:
                return Enqueue("project")
            if method in lib.DRAMATIQ_SEND_METHODS and self._is_actor(func.value, receiver):
                return Enqueue("dramatiq")
            if method == "run" and self._is_django_q_runnable(func.value, receiver):
                return Enqueue("django-q")
            if method == lib.HUEY_SCHEDULE_METHOD and isinstance(receiver, TaskDef) and receiver.kind == "huey":
                return Enqueue("huey")
        callee = self.resolve(func)
        if isinstance(callee, TaskDef):
            return Enqueue("huey") if callee.kind == "huey" else None
        if isinstance(callee, str):
            if matches_dotted(callee, config.transactional_queues):
                return None
            if matches_dotted(callee, config.enqueue_functions):
                return Enqueue("project")
            library = lib.ENQUEUE_FUNCTIONS.get(callee)
            if library is not None:
                return Enqueue(library)
            library = lib.ENQUEUE_FUNCTION_NAMES.get(callee.rsplit(".", 1)[-1])
            if library is not None:
                return Enqueue(library)
        canvas = self._canvas_of(func)
        if canvas is not None and canvas.multi:
            return Enqueue("celery")
        return None

    def _is_actor(self, node: cst.BaseExpression, receiver: Binding | None) -> bool:
        if isinstance(receiver, TaskDef):
            return receiver.kind == "dramatiq"
        if not self.imports_dramatiq or receiver is None or isinstance(receiver, Marker):
            return False
        if isinstance(receiver, str):
            if receiver in lib.SIGNAL_CLASSES or receiver.startswith(lib.SIGNAL_MODULES):
                return False
            last = receiver.rsplit(".", 1)[-1].lower()
            return not (last.endswith("signal") or last in ("self", "cls"))
        return False

    def _is_django_q_runnable(self, node: cst.BaseExpression, receiver: Binding | None) -> bool:
        if receiver == Marker("django-q"):
            return True
        if isinstance(node, cst.Call):
            callee = self.qualified(node.func)
            return callee is not None and callee in lib.DJANGO_Q_RUNNABLES
        return False

    def is_on_commit(self, call: cst.Call) -> bool:
        """``transaction.on_commit``, ``connection(s[..]).on_commit``, safe deferrers."""
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value == lib.ON_COMMIT_METHOD:
            receiver = self.resolve(func.value)
            return receiver is None or isinstance(receiver, str)
        callee = self.qualified(func)
        if callee is None:
            return False
        # A project's own ``on_commit`` helper defers by its very name.
        return (
            callee in lib.ON_COMMIT_FUNCTIONS
            or callee.rsplit(".", 1)[-1] == lib.ON_COMMIT_METHOD
            or matches_dotted(callee, self.config.safe_deferrers)
        )

    # -- visitors ------------------------------------------------------------

    def _visit_function(self, node: cst.FunctionDef) -> None:
        block: AtomicBlock | None = None
        for decorator in node.decorators:
            self.walk(decorator.decorator)
            found = self._atomic_decorator(decorator.decorator)
            if found is not None:
                block = self._portable(found)
        self._walk_parameter_defaults(node.params)
        if self.names.innermost.kind != "module":
            self._bind(node.name.value, self._function_binding(node))
        if block is None and self.classes and self.names.innermost.kind == "class":
            block = self._class_block(node.name.value)
        self._walk_body(node.params, node.body, [block] if block is not None else [])

    def _portable(self, block: AtomicBlock) -> AtomicBlock:
        """Mark a decorator's ``using`` that the method body cannot see."""
        using = block.using
        if using is None or isinstance(using, cst.SimpleString) or self.names.innermost.kind != "class":
            return block
        root = using
        while isinstance(root, cst.Attribute):
            root = root.value
        if isinstance(root, cst.Name) and root.value in self.names.innermost.bindings:
            return dataclasses.replace(block, using_portable=False)
        return block

    def _class_block(self, method: str) -> AtomicBlock | None:
        info = self.classes[-1]
        if info.block is None:
            return None
        if method in info.atomic_methods:
            return info.block
        if info.all_methods and method not in _OUTSIDE_DISPATCH:
            return info.block
        return None

    def _walk_parameter_defaults(self, params: cst.Parameters) -> None:
        for param in _all_params(params):
            if param.default is not None:
                self.walk(param.default)

    def _walk_body(
        self,
        params: cst.Parameters | None,
        body: cst.BaseSuite | cst.BaseExpression,
        blocks: list[AtomicBlock],
        kind: str = "function",
    ) -> None:
        """Walk code that runs later, elsewhere: a def or lambda body."""
        saved = (self.blocks, self.deferred, self.statement_value)
        self.blocks, self.deferred, self.statement_value = blocks, 0, None
        self.names.push(kind)
        if params is not None:
            for param in _all_params(params):
                self.names.bind(param.name.value, LOCAL)
        self.walk(body)
        self.names.pop()
        self.blocks, self.deferred, self.statement_value = saved

    def _visit_lambda(self, node: cst.Lambda) -> None:
        self._walk_parameter_defaults(node.params)
        self._walk_body(node.params, node.body, [], kind="lambda")

    def _visit_class(self, node: cst.ClassDef) -> None:
        info = ClassInfo()
        for decorator in node.decorators:
            self.walk(decorator.decorator)
            self._read_class_decorator(decorator.decorator, info)
        for base in node.bases:
            self.walk(base.value)
        for keyword in node.keywords:
            self.walk(keyword.value)
        if info.block is None:
            self._read_dispatch_decorator(node, info)
        if self.names.innermost.kind != "module":
            self._bind(node.name.value, LOCAL)
        saved = (self.blocks, self.deferred, self.statement_value)
        self.blocks, self.deferred, self.statement_value = [], 0, None
        self.classes.append(info)
        self.names.push("class")
        self.walk(node.body)
        self.names.pop()
        self.classes.pop()
        self.blocks, self.deferred, self.statement_value = saved

    def _read_class_decorator(self, decorator: cst.BaseExpression, info: ClassInfo) -> None:
        """``@method_decorator(atomic, name="dispatch")`` on a class-based view."""
        if not isinstance(decorator, cst.Call):
            return
        if self.qualified(decorator.func) not in lib.METHOD_DECORATOR or not decorator.args:
            return
        first = decorator.args[0]
        if first.keyword is not None:
            return
        block = self._atomic_in_decorator_list(first.value)
        if block is None:
            return
        method = None
        for arg in decorator.args[1:]:
            if arg.keyword is not None and arg.keyword.value == "name":
                method = _string_value(arg.value)
        if method is None:
            return
        info.block = block
        if method == "dispatch":
            info.all_methods = True
        else:
            info.atomic_methods = info.atomic_methods | {method}

    def _read_dispatch_decorator(self, node: cst.ClassDef, info: ClassInfo) -> None:
        """An atomic ``dispatch`` method makes every handler of the view run inside."""
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
        for statement in body:
            if isinstance(statement, cst.FunctionDef) and statement.name.value == "dispatch":
                for decorator in statement.decorators:
                    block = self._atomic_decorator(decorator.decorator)
                    if block is not None:
                        info.block = block
                        info.all_methods = True
                        return

    def _visit_with(self, node: cst.With) -> None:
        opened = 0
        for item in node.items:
            self.walk(item.item)
            block = self.atomic_of(item.item)
            if item.asname is not None:
                self._bind_target(item.asname.name, LOCAL)
            if block is not None:
                self.blocks.append(block)
                opened += 1
        self.walk(node.body)
        for _ in range(opened):
            self.blocks.pop()

    def _visit_expr(self, node: cst.Expr) -> None:
        saved = self.statement_value
        self.statement_value = node.value
        self.walk(node.value)
        self.statement_value = saved

    def _visit_call(self, node: cst.Call) -> None:
        if self.is_on_commit(node):
            self.walk(node.func)
            self.deferred += 1
            for arg in node.args:
                self.walk(arg.value)
            self.deferred -= 1
            return
        if self.blocks and not self.deferred:
            enqueue = self.enqueue_of(node)
            if enqueue is not None:
                self._report_enqueue(node, enqueue)
        self.walk_children(node)

    def _report_enqueue(self, node: cst.Call, enqueue: Enqueue) -> None:
        block = self.blocks[-1]
        code = "OC101" if any(not b.request for b in self.blocks) else "OC106"
        if not self.config.selects(code):
            return
        message = RULES[code].message.format(call=self.describe(node))
        reason = None
        if node is not self.statement_value:
            reason = "its result is used"
        elif not block.using_portable:
            reason = f"using={self.module.code_for_node(block.using)} is not visible in the method" if block.using else None
        fix = None
        if reason is None:
            fix = DeferCall(
                call=node,
                using=block.using,
                celery_twin=enqueue.celery_twin,
                names=self.names.snapshot(),
                legacy_async=self._is_legacy_async(node),
            )
        self.findings.append(RawFinding(code, node, message, fix, reason))

    def _visit_import(self, node: cst.Import | cst.ImportFrom) -> None:
        if self.names.innermost.kind != "module":
            self._bind_import(node)

    def _visit_assign(self, node: cst.Assign) -> None:
        self.walk(node.value)
        for target in node.targets:
            self.walk(target.target)
        if self.names.innermost.kind != "module":
            binding = self._value_binding(node.value)
            for target in node.targets:
                self._bind_target(target.target, binding)

    def _visit_annassign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self.walk(node.value)
        if self.names.innermost.kind != "module":
            binding = self._value_binding(node.value) if node.value is not None else LOCAL
            self._bind_target(node.target, binding)

    def _visit_augassign(self, node: cst.AugAssign) -> None:
        self.walk(node.value)
        if self.names.innermost.kind != "module":
            self._bind_target(node.target, LOCAL)

    def _visit_for(self, node: cst.For) -> None:
        self.walk(node.iter)
        if self.names.innermost.kind != "module":
            self._bind_target(node.target, LOCAL)
        self.walk(node.body)
        if node.orelse is not None:
            self.walk(node.orelse)

    def _visit_namedexpr(self, node: cst.NamedExpr) -> None:
        self.walk(node.value)
        self._bind_target(node.target, LOCAL)

    def _visit_except(self, node: cst.ExceptHandler) -> None:
        if node.type is not None:
            self.walk(node.type)
        if node.name is not None:
            self._bind_target(node.name.name, LOCAL)
        self.walk(node.body)

    def _visit_comprehension(self, node: cst.BaseComp) -> None:
        # A comprehension runs where it stands (inside the block); its
        # targets live in their own scope.
        self.names.push("comprehension")
        generator: cst.CompFor | None = node.for_in
        while generator is not None:
            self.walk(generator.iter)
            self._bind_target(generator.target, LOCAL)
            for condition in generator.ifs:
                self.walk(condition.test)
            generator = generator.inner_for_in
        if isinstance(node, cst.DictComp):
            self.walk(node.key)
            self.walk(node.value)
        else:
            self.walk(node.elt)  # type: ignore[attr-defined]
        self.names.pop()

    # -- messages -----------------------------------------------------------

    def describe(self, call: cst.Call) -> str:
        """A short name for a call in messages: ``send_email.delay()``."""
        if self._is_legacy_async(call):
            return "async()"
        return f"{_describe_callee(call.func)}()"

    def _is_legacy_async(self, call: cst.Call) -> bool:
        if not self.legacy_async:
            return False
        func = call.func
        name = func.attr if isinstance(func, cst.Attribute) else func
        if not isinstance(name, cst.Name) or name.value != "async_task":
            return False
        span = locate(self.module, [name]).get(id(name))
        return span is not None and (span[0], span[1]) in self.legacy_async


# --------------------------------------------------------------------------
# Small helpers


def _nested_statements(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Statements directly inside a module-level compound statement."""
    for child in iter_children(node):
        if isinstance(child, (cst.IndentedBlock, cst.SimpleStatementSuite)):
            yield from child.body
        elif isinstance(child, (cst.Else, cst.Finally, cst.ExceptHandler, cst.ExceptStarHandler, cst.If)):
            yield child


def _all_params(params: cst.Parameters) -> Iterator[cst.Param]:
    yield from params.posonly_params
    yield from params.params
    if isinstance(params.star_arg, cst.Param):
        yield params.star_arg
    yield from params.kwonly_params
    if params.star_kwarg is not None:
        yield params.star_kwarg


def _using_argument(call: cst.Call) -> cst.BaseExpression | None:
    """``using`` of ``atomic(...)``: the keyword, or the first positional argument."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "using":
            return arg.value
    if call.args and call.args[0].keyword is None and not call.args[0].star:
        return call.args[0].value
    return None


def _string_value(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _is_plain_task(node: cst.BaseExpression, receiver: Binding | None) -> bool:
    """A task object (``send_email``, ``tasks.send_email``), not a canvas or RQ job."""
    if isinstance(receiver, TaskDef):
        return receiver.kind == "celery"
    if isinstance(receiver, Canvas):
        return False
    return isinstance(node, (cst.Name, cst.Attribute)) and dotted_name(node) is not None


def _describe_callee(node: cst.BaseExpression, depth: int = 0) -> str:
    name = dotted_name(node)
    if name is not None:
        return name
    if depth > 2:
        return "..."
    if isinstance(node, cst.Attribute):
        return f"{_describe_callee(node.value, depth + 1)}.{node.attr.value}"
    if isinstance(node, cst.Call):
        return f"{_describe_callee(node.func, depth + 1)}(...)"
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
)


def _is_known_name(qualified: str) -> bool:
    """Whether a star import could have provided a name the analysis cares about."""
    if qualified in _KNOWN_NAMES:
        return True
    return qualified.rsplit(".", 1)[-1] in lib.ENQUEUE_FUNCTION_NAMES


def analyse(
    module: cst.Module,
    config: Config = DEFAULT_CONFIG,
    *,
    legacy_async: frozenset[tuple[int, int]] = frozenset(),
) -> Analysis:
    """Find every problem in ``module``."""
    return Analyzer(module, config, legacy_async=legacy_async).run()
