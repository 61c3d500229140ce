"""The analysis context: one walk over a module, the state rules need, and their events.

A single walk over the tree keeps what every rule reads:

* the import/alias table, through the :class:`~.recognize.Recognizer`;
* the stack of atomic blocks the current code runs in. A decorated function
  body, a ``with`` body (or ``stack.enter_context(atomic())``), a method
  covered by ``method_decorator``, or a view under ATOMIC_REQUESTS opens
  one; a nested ``def`` or ``lambda`` body starts with none, because that
  code does not run there (a ``class`` body runs where it stands);
* how deep the walk is inside the arguments of an ``on_commit`` call
  (everything there is deferred);
* the loops around the current code, and the handlers (``try``/``except``,
  ``suppress``) that could catch a send's errors;
* the module's call graph (:mod:`.callgraph`).

The rules (:mod:`.checks`, one module each) observe it: the context calls
their event methods (a send, an ``on_commit`` call, an atomic decorator
without effect, a settings assignment, the end of the walk) and they
report through :meth:`Context.report`.

The walk does not use libcst's visitor protocol (see :mod:`.walk`): a small
dispatcher handles the node types that matter and descends through the
fields of the others.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING

import libcst as cst

from .atomic import AtomicBlock
from .callgraph import CallRecorder
from .config import DEFAULT_CONFIG, Config
from .enqueues import Enqueue
from .findings import DeferStatement, RawFinding, Site
from .index import ProjectIndex
from .libraries import is_project_name
from .names import LOCAL, ProjectCall, Typed, dotted_name
from .planning import SUPPRESS_REASON, TRY_REASON, Guard, catches_send_errors, data_names
from .positions import locate
from .recognize import Recognizer
from .resolution import alias_text, describe_callee, string_value
from .views import (
    ADMIN_ATOMIC_METHODS,
    admin_actions,
    is_admin_class,
    is_function_view,
    is_view_class,
    methods_reached,
    request_methods,
)
from .walk import (
    NODE_CLASSES,
    block_body,
    body_runs_later,
    child_fields,
    iter_descendants,
    methods_of,
    names_assigned,
    parameter_names,
    target_names,
)
from .where import admin_block, opened

if TYPE_CHECKING:
    from .checks.base import Check


@dataclass
class Loop:
    """A loop around the current code; what it rebinds is computed on demand."""

    body: cst.CSTNode
    targets: frozenset[str]
    _rebinds: frozenset[str] | None = None

    def rebinds(self) -> frozenset[str]:
        if self._rebinds is None:
            self._rebinds = frozenset(names_assigned(self.body)) | self.targets
        return self._rebinds


@dataclass
class ClassInfo:
    """What runs inside a transaction among a class's methods."""

    atomic_methods: frozenset[str] = frozenset()
    all_methods: bool = False
    block: AtomicBlock | None = None
    #: under ATOMIC_REQUESTS: the view methods that run in the request
    request_methods: frozenset[str] = frozenset()
    #: Django admin methods that its own atomic add/change/delete views call
    admin_methods: frozenset[str] = frozenset()


#: Methods that run before or outside ``dispatch``.
_OUTSIDE_DISPATCH = frozenset({"__init__", "__new__", "__init_subclass__", "setup", "as_view"})


class Context:
    """Walks one module once; the rules observe the walk and collect raw findings."""

    def __init__(
        self,
        module: cst.Module,
        config: Config = DEFAULT_CONFIG,
        *,
        filename: str = "<string>",
        legacy_async: frozenset[tuple[int, int]] = frozenset(),
        atomic_requests: bool = False,
        module_name: str | None = None,
        index: ProjectIndex | None = None,
        summary_only: bool = False,
        checks: Sequence[type[Check]] = (),
    ) -> None:
        self.module = module
        self.module_name = module_name
        #: summarising for the project index: no findings, no deep look-ups
        self.summary_only = summary_only
        self.config = config
        self.filename = filename
        self.legacy_async = legacy_async
        self.atomic_requests = atomic_requests and config.selects("OC106")
        #: view classes may derive from project classes in other modules (OC106
        #: only; summaries for the index must agree with the check)
        self.view_bases_elsewhere = config.atomic_requests == "true" and config.selects("OC106")
        self.rec = Recognizer(config, module, filename, module_name=module_name, index=index)
        self.findings: list[RawFinding] = []
        self.blocks: list[AtomicBlock] = []
        self.deferred = 0
        self.statement_value: cst.BaseExpression | None = None
        self.classes: list[ClassInfo] = []
        #: the class statements being walked, innermost last
        self.class_nodes: list[cst.ClassDef] = []
        self.loops: list[Loop] = []
        self.functions: list[cst.FunctionDef] = []
        self._function_locals: dict[int, frozenset[str]] = {}
        self.method_tables: list[dict[str, cst.FunctionDef]] = []
        #: whose body the walk is in, for the call graph (None: a lambda or class body)
        self.owners: list[cst.FunctionDef | None] = []
        self.calls = CallRecorder(self)
        #: what could catch a send's errors around the current code (this function only)
        self.guards: list[Guard] = []
        #: ``with ExitStack() as name``: the atomic blocks entered into each
        self.exit_stacks: dict[str, int] = {}
        #: whole ``try`` statements deferred as one, shared by their sends' findings
        self.try_plans: dict[int, tuple[DeferStatement | None, str | None]] = {}
        #: classes of this module known to be views / admins (their subclasses are too)
        self.view_classes: set[str] = set()
        self.module_view_classes: list[str] = []
        #: classes whose views Django runs outside ATOMIC_REQUESTS (``non_atomic_requests`` on
        #: the class, its ``dispatch`` or what its ``as_view`` returns, or a base's), and the
        #: module-level ones, for the summary (their subclasses elsewhere are exempt too)
        self.non_atomic_classes: set[str] = set()
        self.module_non_atomic_classes: list[str] = []
        #: module-level classes seen so far, for methods inherited from them
        self.module_classes: dict[str, cst.ClassDef] = {}
        self.admin_classes: set[str] = set()
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
            cst.While: self._visit_while,  # type: ignore[dict-item]
            cst.NamedExpr: self._visit_namedexpr,  # type: ignore[dict-item]
            cst.ExceptHandler: self._visit_except,  # type: ignore[dict-item]
            cst.Try: self._visit_try,  # type: ignore[dict-item]
            cst.TryStar: self._visit_try,  # type: ignore[dict-item]
            cst.If: self._visit_if,  # type: ignore[dict-item]
            cst.ListComp: self._visit_comprehension,  # type: ignore[dict-item]
            cst.SetComp: self._visit_comprehension,  # type: ignore[dict-item]
            cst.DictComp: self._visit_comprehension,  # type: ignore[dict-item]
            cst.GeneratorExp: self._visit_comprehension,  # type: ignore[dict-item]
        }
        #: the rules observing this walk (none when summarising for the project index)
        self.checks = [] if summary_only else [check(self) for check in checks]
        self._on_send = _handlers(self.checks, "on_send")
        self._on_commit_call = _handlers(self.checks, "on_commit_call")
        self._on_no_effect = _handlers(self.checks, "on_atomic_without_effect")
        self._on_settings = _handlers(self.checks, "on_settings_assignment")
        self._on_side_effect = _handlers(self.checks, "on_side_effect")

    # -- entry point ---------------------------------------------------------

    def run(self) -> list[RawFinding]:
        """Walk the module; the findings the rules reported."""
        self.rec.prescan_module()
        self.is_settings = self._is_settings_module()
        for statement in self.module.body:
            self.walk(statement)
        for check in self.checks:
            check.finish()
        return self.findings

    def report(self, finding: RawFinding) -> None:
        """What a rule calls to report a finding."""
        self.findings.append(finding)

    @property
    def owner(self) -> cst.FunctionDef | None:
        """The function whose body the walk is in (None: a lambda, class body or module level)."""
        return self.owners[-1] if self.owners else None

    def walk(self, node: cst.CSTNode) -> None:
        handler = self._dispatch.get(type(node))
        if handler is not None:
            handler(node)
        else:
            self.walk_children(node)

    def walk_children(self, node: cst.CSTNode) -> None:
        nodes = NODE_CLASSES
        walk = self.walk
        for name in child_fields(type(node)):
            value = getattr(node, name)
            kind = type(value)
            if kind in nodes:
                walk(value)
            elif kind is list or kind is tuple:
                for item in value:
                    if type(item) in nodes:
                        walk(item)

    @property
    def at_module_level(self) -> bool:
        return self.rec.names.innermost.kind == "module"

    # -- functions, lambdas, classes -------------------------------------------

    def _visit_function(self, node: cst.FunctionDef) -> None:
        rec = self.rec
        block: AtomicBlock | None = None
        exempt = False
        for decorator in node.decorators:
            self.walk(decorator.decorator)
            found = rec.atomic_decorator(decorator.decorator)
            if found is not None:
                if body_runs_later(node):
                    # It wraps only creating the coroutine or generator, not running it.
                    for handler in self._on_no_effect:
                        handler(decorator.decorator, node)
                else:
                    block = opened(self._portable(found, node), decorator.decorator, decorator=True)
            if self.atomic_requests and rec.is_non_atomic_requests(decorator.decorator):
                exempt = True
        self._walk_parameter_defaults(node.params)
        in_class = bool(self.classes) and rec.names.innermost.kind == "class"
        if not self.at_module_level:
            rec.bind(node.name.value, rec.function_binding(node))
        if block is None and in_class:
            block = self._class_block(node.name.value)
        blocks = [block] if block is not None else []
        if not exempt and self._runs_in_request(node, in_class):
            blocks.insert(0, AtomicBlock(None, request=True))
        if any(not block.read_only for block in blocks):
            self.calls.graph.covered.add(id(node))
        self.calls.note_receivers(node)
        self.functions.append(node)
        self.owners.append(node)
        given = self._view_parameters(node) if in_class else {}
        self._walk_body(node.params, node.body, blocks, given=given)
        self.owners.pop()
        self.functions.pop()

    def _view_parameters(self, node: cst.FunctionDef) -> dict[str, Typed]:
        """``form`` in ``form_valid``, ``serializer`` in ``perform_create``: an instance of the class
        the view names in ``form_class``/``serializer_class`` (or returns from ``get_form_class()``/
        ``get_serializer_class()``, a single class)."""
        found = _VIEW_PARAMETERS.get(node.name.value)
        if found is None or not self.class_nodes:
            return {}
        parameter, attribute, getter, save_as = found
        if parameter not in parameter_names(node.params):
            return {}
        for cls in self.local_mro(self.class_nodes[-1]):
            for statement in block_body(cls):
                value = _class_attribute(statement, attribute)
                how = f"by {attribute}"
                if (
                    value is None
                    and isinstance(statement, cst.FunctionDef)
                    and statement.name.value == getter
                ):
                    value, how = _single_return(statement), f"by {getter}()"
                if value is None:
                    continue
                typed = self.rec.typed(value, how)
                if typed is None:
                    return {}
                typed.save_as = save_as
                return {parameter: typed}
        return {}

    def _runs_in_request(self, node: cst.FunctionDef, in_class: bool) -> bool:
        if not self.atomic_requests:
            return False
        if in_class:
            return node.name.value in self.classes[-1].request_methods
        return not self.functions and is_function_view(self.rec, node, self.filename)

    def _portable(self, block: AtomicBlock, function: cst.FunctionDef | None) -> AtomicBlock:
        """Whether the block's ``using`` can be written again at an enqueue inside it.

        A literal can. A plain name or attribute chain can if the code in
        between cannot rebind its root: not a parameter or local of the
        decorated ``function`` (a decorator's ``using`` is evaluated outside
        it), not a class attribute (invisible in methods), not a local the
        enclosing function assigns (a ``with`` body may loop over it). A
        call would run again: never.
        """
        using = block.using
        if using is None or isinstance(using, (cst.SimpleString, cst.ConcatenatedString)):
            return block
        if isinstance(using, cst.Name) and using.value == "None":
            return block
        root = using
        while isinstance(root, cst.Attribute):
            root = root.value
        portable = isinstance(root, cst.Name) and dotted_name(using) is not None
        if portable and isinstance(root, cst.Name):
            scope = self.rec.names.innermost
            if function is not None:
                rebound = parameter_names(function.params) | self._locals(function)
                portable = root.value not in rebound and not (
                    scope.kind == "class" and root.value in scope.bindings
                )
            elif self.functions:
                function_locals = self._locals(self.functions[-1])
                if root is not using and root.value in function_locals:
                    # ``obj._state.db``: an attribute of a local object may change
                    # before the commit (``obj.save(using=...)`` moves it).
                    code = self.module.code_for_node(using)
                    return dataclasses.replace(
                        block,
                        using_portable=False,
                        using_reason=f"the atomic block's using= ({code}) may change before the commit",
                    )
                assigned = names_assigned(self.functions[-1].body)
                portable = root.value not in assigned
        if portable:
            return block
        code = self.module.code_for_node(using)
        return dataclasses.replace(
            block,
            using_portable=False,
            using_reason=f"the atomic block's using= ({code}) cannot be repeated here",
        )

    def _locals(self, function: cst.FunctionDef) -> frozenset[str]:
        """Every name ``function`` binds (parameters, assignments, loops, defs...)."""
        key = id(function)
        found = self._function_locals.get(key)
        if found is None:
            found = frozenset(parameter_names(function.params) | names_assigned(function.body))
            self._function_locals[key] = found
        return found

    def _class_block(self, method: str) -> AtomicBlock | None:
        info = self.classes[-1]
        if method in info.admin_methods and (info.block is None or method not in info.atomic_methods):
            return admin_block(method)
        if info.block is None:
            return None
        if method in info.atomic_methods:
            return info.block
        if info.all_methods and method not in _OUTSIDE_DISPATCH:
            return info.block
        return None

    def _walk_parameter_defaults(self, params: cst.Parameters) -> None:
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            if param.default is not None:
                self.walk(param.default)

    def _walk_body(
        self,
        params: cst.Parameters | None,
        body: cst.BaseSuite | cst.BaseExpression,
        blocks: list[AtomicBlock],
        kind: str = "function",
        given: dict[str, Typed] | None = None,
    ) -> None:
        """Walk code that runs later, elsewhere: a def or lambda body (``given``: parameters whose
        class the enclosing class states)."""
        saved = (self.blocks, self.deferred, self.statement_value, self.loops, self.guards, self.exit_stacks)
        self.blocks, self.deferred, self.statement_value, self.loops = blocks, 0, None, []
        self.guards, self.exit_stacks = [], {}
        names = self.rec.names
        names.push(kind)
        if params is not None:
            for name in parameter_names(params):
                names.bind(name, LOCAL)
            if kind == "function":
                for param in (*params.posonly_params, *params.params, *params.kwonly_params):
                    if param.annotation is not None:
                        typed = self.rec.typed(param.annotation.annotation, "by the annotation")
                        if typed is not None:
                            names.bind(param.name.value, typed)
            for name, typed in (given or {}).items():
                names.bind(name, typed)
        self.walk(body)
        names.pop()
        self.blocks, self.deferred, self.statement_value, self.loops, self.guards, self.exit_stacks = saved

    def _visit_lambda(self, node: cst.Lambda) -> None:
        self._walk_parameter_defaults(node.params)
        self.owners.append(None)
        self._walk_body(node.params, node.body, [], kind="lambda")
        self.owners.pop()

    def _visit_class(self, node: cst.ClassDef) -> None:
        rec = self.rec
        info = ClassInfo()
        exempt = False
        for decorator in node.decorators:
            self.walk(decorator.decorator)
            self._read_class_decorator(decorator.decorator, info)
            if rec.is_non_atomic_requests(decorator.decorator):
                exempt = True
        for base in node.bases:
            self.walk(base.value)
        for keyword in node.keywords:
            self.walk(keyword.value)
        exempt = self._read_dispatch_decorators(node, info) or exempt
        exempt = exempt or self._as_view_exempts(node) or self._exempt_base(node)
        if exempt:
            self.non_atomic_classes.add(node.name.value)
            if self.at_module_level:
                self.module_non_atomic_classes.append(node.name.value)
        if is_view_class(rec, node, frozenset(self.view_classes), other_modules=self.view_bases_elsewhere):
            self.view_classes.add(node.name.value)
            if self.at_module_level:
                self.module_view_classes.append(node.name.value)
            if self.atomic_requests and not exempt:
                info.request_methods = request_methods(rec, node)
        if is_admin_class(rec, node, frozenset(self.admin_classes)):
            self.admin_classes.add(node.name.value)
            info.admin_methods = methods_reached(node, set(ADMIN_ATOMIC_METHODS))
            if self.atomic_requests and not exempt:
                # The changelist runs its actions in the request's transaction.
                info.request_methods = methods_reached(node, admin_actions(rec, node))
        if not self.at_module_level:
            rec.bind(node.name.value, LOCAL)
        # A class body runs at once, where it stands: inside the blocks (and
        # loops, handlers) around it. Its methods start afresh (_walk_body).
        saved_value = self.statement_value
        self.statement_value = None
        self.classes.append(info)
        self.class_nodes.append(node)
        self.method_tables.append(self.method_table(node))
        if self.at_module_level:
            self.module_classes[node.name.value] = node
        self.owners.append(None)
        rec.names.push("class")
        self.walk(node.body)
        rec.names.pop()
        self.owners.pop()
        self.method_tables.pop()
        self.class_nodes.pop()
        self.classes.pop()
        self.statement_value = saved_value

    def subclasses(self, node: cst.ClassDef) -> list[cst.ClassDef]:
        """The module's classes deriving from ``node`` (by name, at any depth), in module order."""
        names = {node.name.value}
        found: list[cst.ClassDef] = []
        changed = True
        while changed:
            changed = False
            for cls in self.module_classes.values():
                if cls.name.value in names:
                    continue
                if any(isinstance(base.value, cst.Name) and base.value.value in names for base in cls.bases):
                    names.add(cls.name.value)
                    found.append(cls)
                    changed = True
        return found

    def method_table(self, node: cst.ClassDef) -> dict[str, cst.FunctionDef]:
        """What ``self.name`` can call: the class's methods, then those it inherits
        from classes defined earlier in this module (bases left to right, depth first)."""
        table: dict[str, cst.FunctionDef] = {}
        pending = [node]
        seen: set[int] = set()
        while pending and len(seen) < 20:
            current = pending.pop(0)
            if id(current) in seen:
                continue
            seen.add(id(current))
            for name, method in methods_of(current).items():
                table.setdefault(name, method)
            bases = [base.value for base in current.bases]
            pending[:0] = [
                self.module_classes[base.value]
                for base in bases
                if isinstance(base, cst.Name) and base.value in self.module_classes
            ]
        return table

    def local_mro(self, node: cst.ClassDef) -> list[cst.ClassDef]:
        """``node`` then the classes of this module it derives from (bases left to right, depth first)."""
        order: list[cst.ClassDef] = []
        pending = [node]
        while pending and len(order) < 20:
            current = pending.pop(0)
            if any(current is seen for seen in order):
                continue
            order.append(current)
            pending[:0] = [
                self.module_classes[base.value.value]
                for base in current.bases
                if isinstance(base.value, cst.Name) and base.value.value in self.module_classes
            ]
        return order

    def project_bases(self, node: cst.ClassDef) -> list[str]:
        """The bases of ``node`` defined in other modules of the project (absolute names), reached
        through its bases of this module too, in look-up order."""
        found: list[str] = []
        for cls in self.local_mro(node):
            for base in cls.bases:
                if isinstance(base.value, cst.Name) and base.value.value in self.module_classes:
                    continue
                name = self.rec.qualified(base.value)
                if name is not None and is_project_name(name) and name not in found:
                    found.append(name)
        return found

    def _read_class_decorator(self, decorator: cst.BaseExpression, info: ClassInfo) -> None:
        """``@method_decorator(atomic, name="dispatch")`` on a class-based view."""
        inner = self.rec.method_decorated(decorator)
        if inner is None:
            return
        block = self.rec.atomic_in_decorators(inner)
        if block is None:
            return
        assert isinstance(decorator, cst.Call)
        method = next(
            (
                string_value(arg.value)
                for arg in decorator.args
                if arg.keyword is not None and arg.keyword.value == "name"
            ),
            None,
        )
        if method is None:
            return
        info.block = opened(block, decorator, decorator=True)
        if method == "dispatch":
            info.all_methods = True
        else:
            info.atomic_methods = info.atomic_methods | {method}

    def _read_dispatch_decorators(self, node: cst.ClassDef, info: ClassInfo) -> bool:
        """An atomic ``dispatch`` makes every handler run inside; returns "exempt from ATOMIC_REQUESTS"."""
        exempt = False
        body = block_body(node)
        for statement in body:
            if isinstance(statement, cst.FunctionDef) and statement.name.value == "dispatch":
                for decorator in statement.decorators:
                    block = self.rec.atomic_decorator(decorator.decorator)
                    if block is not None and info.block is None:
                        info.block = opened(block, decorator.decorator, decorator=True)
                        info.all_methods = True
                    if self.rec.is_non_atomic_requests(decorator.decorator):
                        exempt = True
        return exempt

    def _as_view_exempts(self, node: cst.ClassDef) -> bool:
        """``def as_view(cls, ...): return non_atomic_requests(super().as_view(...))``: the view
        Django gets is exempt from ATOMIC_REQUESTS, as the decorator would make it."""
        as_view = methods_of(node).get("as_view")
        return as_view is not None and any(
            isinstance(call, cst.Call) and self.rec.is_non_atomic_requests(call.func)
            for call in iter_descendants(as_view.body)
        )

    def _exempt_base(self, node: cst.ClassDef) -> bool:
        """A base that is exempt: of this module, or (under ATOMIC_REQUESTS) of another module."""
        for base in node.bases:
            if isinstance(base.value, cst.Name) and base.value.value in self.non_atomic_classes:
                return True
            if self.view_bases_elsewhere:
                qualified = self.rec.qualified(base.value)
                if qualified is not None and self.rec.project_non_atomic_view(qualified):
                    return True
        return False

    # -- statements ------------------------------------------------------------

    def _visit_with(self, node: cst.With) -> None:
        count = 0
        guarded = False
        stacks: list[str] = []
        for item in node.items:
            self.walk(item.item)
            block = self.rec.atomic_of(item.item)
            if item.asname is not None:
                # ``with httpx.Client() as client``: a session's ``__enter__`` returns itself.
                self.rec.bind_target(item.asname.name, self.rec.effect_marker(item.item) or LOCAL)
                if isinstance(item.asname.name, cst.Name) and self.rec.is_exit_stack(item.item):
                    stacks.append(item.asname.name.value)
            if block is not None:
                self.blocks.append(opened(self._portable(block, None), item.item, decorator=False))
                count += 1
            elif not guarded and self.rec.may_swallow(item.item):
                self.guards.append(Guard(node, SUPPRESS_REASON))
                guarded = True
        saved_stacks = {name: self.exit_stacks.get(name) for name in stacks}
        for name in stacks:
            self.exit_stacks[name] = 0
        self.walk(node.body)
        for name in stacks:
            # Blocks entered with ``stack.enter_context(atomic())`` end with the ``with``.
            for _ in range(self.exit_stacks.pop(name, 0)):
                self.blocks.pop()
            if saved_stacks[name] is not None:
                self.exit_stacks[name] = saved_stacks[name]  # type: ignore[assignment]
        if guarded:
            self.guards.pop()
        for _ in range(count):
            self.blocks.pop()

    def _visit_try(self, node: cst.Try | cst.TryStar) -> None:
        """Sends in a ``try`` body with handlers are guarded; its handlers and clauses are not.

        Handlers for errors no send raises (``except Order.DoesNotExist``) guard nothing.
        """
        guarded = any(catches_send_errors(handler.type, self.rec.is_own_class) for handler in node.handlers)
        if guarded:
            self.guards.append(Guard(node, TRY_REASON))
        self.walk(node.body)
        if guarded:
            self.guards.pop()
        for handler in node.handlers:
            self.walk(handler)
        if node.orelse is not None:
            self.walk(node.orelse)
        if node.finalbody is not None:
            self.walk(node.finalbody)

    def _visit_if(self, node: cst.If) -> None:
        """Code under ``if TYPE_CHECKING:`` never runs."""
        self.walk(node.test)
        if not self.rec.is_type_checking(node.test):
            self.walk(node.body)
        if node.orelse is not None:
            self.walk(node.orelse)

    def _enter_context(self, node: cst.Call) -> bool:
        """``stack.enter_context(transaction.atomic())``: a block until the stack's ``with`` ends."""
        func = node.func
        if not (
            isinstance(func, cst.Attribute)
            and func.attr.value == "enter_context"
            and isinstance(func.value, cst.Name)
            and func.value.value in self.exit_stacks
            and node.args
        ):
            return False
        block = self.rec.atomic_of(node.args[0].value)
        if block is None:
            return False
        self.blocks.append(opened(self._portable(block, None), node.args[0].value, decorator=False))
        self.exit_stacks[func.value.value] += 1
        return True

    def _visit_expr(self, node: cst.Expr) -> None:
        saved = self.statement_value
        self.statement_value = node.value
        self.walk(node.value)
        self.statement_value = saved

    def _visit_import(self, node: cst.Import | cst.ImportFrom) -> None:
        if not self.at_module_level:
            self.rec.bind_import(node)

    def _visit_assign(self, node: cst.Assign) -> None:
        self.walk(node.value)
        for target in node.targets:
            self.walk(target.target)
        if self.at_module_level or self.rec.names.innermost.kind == "class":
            for target in node.targets:
                self._check_settings_assignment(target.target)
        if not self.at_module_level:
            binding = self.rec.value_binding(node.value)
            for target in node.targets:
                self.rec.bind_target(target.target, binding)

    def _visit_annassign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self.walk(node.value)
        if self.at_module_level or self.rec.names.innermost.kind == "class":
            self._check_settings_assignment(node.target)
        if not self.at_module_level:
            binding = self.rec.value_binding(node.value) if node.value is not None else LOCAL
            if binding is LOCAL or isinstance(binding, ProjectCall):
                # ``svc: Service = make_service()``: the annotation says what it holds.
                binding = self.rec.typed(node.annotation.annotation, "by the annotation") or binding
            self.rec.bind_target(node.target, binding)

    def _visit_augassign(self, node: cst.AugAssign) -> None:
        self.walk(node.value)
        if not self.at_module_level:
            self.rec.bind_target(node.target, LOCAL)

    def _visit_for(self, node: cst.For) -> None:
        self.walk(node.iter)
        targets = frozenset(target_names(node.target))
        if not self.at_module_level:
            self.rec.bind_target(node.target, LOCAL)
        self.loops.append(Loop(node.body, targets))
        self.walk(node.body)
        self.loops.pop()
        if node.orelse is not None:
            self.walk(node.orelse)

    def _visit_while(self, node: cst.While) -> None:
        self.walk(node.test)
        self.loops.append(Loop(node.body, frozenset()))
        self.walk(node.body)
        self.loops.pop()
        if node.orelse is not None:
            self.walk(node.orelse)

    def _visit_namedexpr(self, node: cst.NamedExpr) -> None:
        self.walk(node.value)
        self.rec.bind_target(node.target, LOCAL)

    def _visit_except(self, node: cst.ExceptHandler) -> None:
        if node.type is not None:
            self.walk(node.type)
        if node.name is not None:
            self.rec.bind_target(node.name.name, LOCAL)
        self.walk(node.body)

    def _visit_comprehension(self, node: cst.BaseComp) -> None:
        # A comprehension runs where it stands (inside the block); its
        # targets live in their own scope, and it loops.
        names = self.rec.names
        names.push("comprehension")
        generator: cst.CompFor | None = node.for_in
        targets: set[str] = set()
        while generator is not None:
            self.walk(generator.iter)
            self.rec.bind_target(generator.target, LOCAL)
            targets |= target_names(generator.target)
            for condition in generator.ifs:
                self.walk(condition.test)
            generator = generator.inner_for_in
        self.loops.append(Loop(node, frozenset(targets), frozenset(targets)))
        if isinstance(node, cst.DictComp):
            self.walk(node.key)
            self.walk(node.value)
        else:
            self.walk(node.elt)  # type: ignore[attr-defined]
        self.loops.pop()
        names.pop()

    # -- calls -------------------------------------------------------------------

    def _visit_call(self, node: cst.Call) -> None:
        if self.exit_stacks and self._enter_context(node):
            self.walk_children(node)
            return
        deep = bool(self.writing_blocks) and not self.summary_only
        on_commit = self.rec.on_commit_of(node, deep=deep)
        if on_commit is not None:
            self.calls.note_deferrer(on_commit.callback)
            for handler in self._on_commit_call:
                handler(node, on_commit)
            self.walk(node.func)
            self.deferred += 1
            for arg in node.args:
                self.walk(arg.value)
            self.deferred -= 1
            return
        if not self.deferred:
            enqueue = self.rec.enqueue_of(node, deep=deep)
            if enqueue is not None and self._written_as_row(enqueue):
                enqueue = None  # a row of the block's own transaction: nothing races
            if enqueue is not None:
                for handler in self._on_send:
                    handler(node, enqueue)
                self.calls.note_enqueue(node, self.describe(node), deep=deep)
            else:
                # A summary records them for the side-effect rules of other modules.
                wanted = self._on_side_effect or self.summary_only
                effect = self.rec.effect_of(node) if wanted else None
                if effect is not None:
                    for handler in self._on_side_effect:
                        handler(node, effect)
                    self.calls.note_effect(node, effect.kind, self.describe(node))
                else:
                    self.calls.note_call(node)
        self.walk_children(node)

    # -- OC101/OC106: enqueues in a block ----------------------------------------

    def site(self) -> Site:
        """The names at the current position, for a fix made here."""
        taken: set[str] = set()
        for function in self.functions:
            taken |= self._locals(function)
        return Site(self.rec.names.snapshot(), frozenset(taken))

    @property
    def writing_blocks(self) -> list[AtomicBlock]:
        """The blocks around the current code that can write (replica blocks cannot)."""
        return [block for block in self.blocks if not block.read_only]

    def _written_as_row(self, enqueue: Enqueue) -> bool:
        """The job is a row written through Django's connection to the innermost writing block's database."""
        if enqueue.row_alias is None or not self.writing_blocks:
            return False
        return alias_text(self.module, self.writing_blocks[-1].using) == enqueue.row_alias

    def data_names(self) -> set[str]:
        """The values the current function (or module) binds: what a later change can reach."""
        if self.functions:
            function = self.functions[-1]
            return data_names(function.body, parameter_names(function.params))
        return data_names(self.module, set())

    def current_body(self) -> cst.CSTNode:
        """The function body the walk is in (the module at module level)."""
        return self.functions[-1].body if self.functions else self.module

    # -- settings (OC107) ------------------------------------------------------

    def _is_settings_module(self) -> bool:
        path = PurePath(self.filename)
        if path.stem == "settings" or "settings" in path.parts[:-1]:
            return True
        return "DATABASES" in self.rec.names.scopes[0].bindings

    def _check_settings_assignment(self, target: cst.BaseExpression) -> None:
        """At module level or in a class-based settings class (django-configurations)."""
        if self.is_settings and not self.functions and len(self.classes) <= 1:
            for handler in self._on_settings:
                handler(target)

    # -- messages -----------------------------------------------------------

    def describe(self, call: cst.Call) -> str:
        """A short name for a call in messages: ``send_email.delay()``."""
        if self.is_legacy_async(call):
            return "async()"
        return f"{describe_callee(call.func)}()"

    def is_legacy_async(self, call: cst.Call) -> bool:
        if not self.legacy_async:
            return False
        func = call.func
        name = func.attr if isinstance(func, cst.Attribute) else func
        if not isinstance(name, cst.Name) or name.value != "async_task":
            return False
        span = locate(self.module, [name]).get(id(name))
        return span is not None and (span[0], span[1]) in self.legacy_async


#: view method -> its parameter, the class attribute and the getter naming that parameter's
#: class, and what the parameter's ``save()`` runs when the class does not define it
_VIEW_PARAMETERS = {
    "form_valid": ("form", "form_class", "get_form_class", None),
    "form_invalid": ("form", "form_class", "get_form_class", None),
    "perform_create": ("serializer", "serializer_class", "get_serializer_class", "create"),
    "perform_update": ("serializer", "serializer_class", "get_serializer_class", "update"),
}


def _class_attribute(statement: cst.CSTNode, name: str) -> cst.BaseExpression | None:
    """``form_class = OrderForm`` in a class body: the value."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return None
    for small in statement.body:
        if (
            isinstance(small, cst.Assign)
            and len(small.targets) == 1
            and isinstance(small.targets[0].target, cst.Name)
            and small.targets[0].target.value == name
        ):
            return small.value
    return None


def _single_return(function: cst.FunctionDef) -> cst.BaseExpression | None:
    """What a method returns when it has one ``return`` of a name (else None)."""
    returns = [
        node for node in iter_descendants(function.body, into_scopes=False) if isinstance(node, cst.Return)
    ]
    if len(returns) != 1 or not isinstance(returns[0].value, (cst.Name, cst.Attribute)):
        return None
    return returns[0].value


def _handlers(checks: list[Check], event: str) -> list[Callable[..., None]]:
    """The bound methods of the checks that override ``event`` (the base class's observe nothing)."""
    return [
        getattr(check, event)
        for check in checks
        if getattr(type(check), event).__qualname__ != f"Check.{event}"
    ]
