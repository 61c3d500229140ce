"""What a name means in this module: a small scoped import/alias table.

libcst's ``QualifiedNameProvider`` would answer the same questions, but its
scope analysis costs 5-15x the parse. The analysis only needs to know whether
a name refers to ``django.db.transaction``, a task, a canvas or an atomic
context, so this table is filled in the same pass that looks for findings:
imports at module and function level, simple aliases (``atomic =
transaction.atomic``) and every other binding as an opaque local that shadows
what it hides (a parameter named ``transaction`` is not Django's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

import libcst as cst

# Path helpers kept light (no libcst) for the front ends; re-exported here.
from .modules import absolute_name as absolute_name
from .modules import module_name_of as module_name_of
from .queues.base import Kind


class Local:
    """A name bound to something the analysis does not track."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "LOCAL"


LOCAL = Local()


class ProjectCall(Local):
    """A local holding what a function of another project module returned.

    Nothing the analysis tracks, unless that function is an atomic wrapper
    (``tx = write_tx(); with tx: ...``): the project index is asked only
    if the name is used as a ``with`` item or decorator, not at every
    assignment.
    """

    __slots__ = ("call", "qualified")

    def __init__(self, qualified: str, call: cst.Call | None = None) -> None:
        self.qualified = qualified
        #: the call, for a wrapper whose database is one of its arguments
        self.call = call

    def __repr__(self) -> str:
        return f"ProjectCall({self.qualified!r})"


class Typed(Local):
    """A name whose class the code states without making the instance here: an annotation
    (``svc: Service``). ``cls`` is a class of this module, or ``qualified`` one of another
    project module; ``how`` and ``node`` say where the code states it (for messages).

    Opaque to everything but the call graph, which looks methods up on it.
    """

    __slots__ = ("cls", "how", "node", "qualified", "save_as")

    def __init__(
        self,
        cls: cst.ClassDef | None,
        qualified: str | None,
        how: str,
        node: cst.CSTNode | None,
        save_as: str | None = None,
    ) -> None:
        self.cls = cls
        self.qualified = qualified
        self.how = how
        self.node = node
        #: a DRF serializer in ``perform_create``/``perform_update``: its ``save()`` runs this
        #: method (``create``/``update``) when the class does not define ``save`` itself
        self.save_as = save_as

    def __repr__(self) -> str:
        name = self.cls.name.value if self.cls is not None else self.qualified
        return f"Typed({name!r})"


@dataclass(frozen=True)
class AtomicContext:
    """A name bound to ``transaction.atomic(...)``, used later as ``with ctx:``."""

    using: cst.BaseExpression | None


@dataclass(frozen=True)
class Canvas:
    """A Celery signature or canvas; ``multi`` when calling it sends it."""

    multi: bool


@dataclass(frozen=True)
class TaskDef:
    """A function (or class) of this module that is a task or actor of a queue library.

    ``kind`` says whose (:class:`~.queues.Kind`; ``TRANSACTIONAL``: its sends
    already wait for the commit). ``row_alias``: its jobs are rows written
    through Django's connection to that database.
    """

    kind: Kind
    name: str
    row_alias: str | None = None


@dataclass(frozen=True)
class Marker:
    """A value of a known kind: a django-q task object, a Signal, a Huey app."""

    kind: str


#: A Celery ``Task`` subclass whose ``apply_async`` hands the send to
#: ``on_commit``: tasks made with ``base=`` it wait for the commit.
COMMIT_AWARE_TASK_BASE = Marker("commit-aware-task-base")


@dataclass(frozen=True)
class LocalFunction:
    """A function defined in this module (kept for callbacks passed by name)."""

    node: cst.FunctionDef = field(repr=False)


@dataclass(frozen=True)
class AtomicWrapper:
    """What a function of this module is when it runs its caller's code in an atomic block.

    A ``@contextmanager`` that yields inside ``transaction.atomic()``, or a
    decorator whose wrapper calls the decorated function inside one. The
    wrapped block's database is one of: ``using``, a literal (None: the
    default database); a parameter of the wrapper (``using_parameter`` at
    ``using_position``, defaulting to ``using_default``), read from each
    call site; or unknown (``using_known`` False: chosen inside the
    wrapper from something a call site cannot repeat, such as settings).
    """

    node: cst.FunctionDef = field(repr=False)
    using: cst.BaseExpression | None = field(default=None, repr=False)
    using_parameter: str | None = None
    using_position: int | None = None
    using_default: cst.BaseExpression | None = field(default=None, repr=False)
    using_known: bool = True


@dataclass(frozen=True)
class LocalClass:
    """A class defined at module level in this module."""

    node: cst.ClassDef = field(repr=False)


@dataclass(frozen=True)
class LocalInstance:
    """An instance of a class of this module (``backoff = Backoff()``)."""

    cls: cst.ClassDef = field(repr=False)


Binding = Union[str, Local, AtomicContext, Canvas, TaskDef, Marker, LocalFunction, LocalClass, LocalInstance]


@dataclass
class Scope:
    """One Python scope; class scopes are invisible to the functions inside."""

    kind: str  # "module", "class", "function", "lambda", "comprehension"
    bindings: dict[str, Binding] = field(default_factory=dict)


def is_informative(binding: Binding) -> bool:
    return not isinstance(binding, Local)


class NameTable:
    """A stack of scopes; lookups follow Python's LEGB rule (minus builtins)."""

    def __init__(self, module_bindings: dict[str, Binding], star_modules: list[str]) -> None:
        self.scopes: list[Scope] = [Scope("module", module_bindings)]
        self.star_modules = star_modules

    def push(self, kind: str) -> Scope:
        scope = Scope(kind)
        self.scopes.append(scope)
        return scope

    def pop(self) -> None:
        self.scopes.pop()

    @property
    def innermost(self) -> Scope:
        return self.scopes[-1]

    def bind(self, name: str, binding: Binding) -> None:
        self.scopes[-1].bindings[name] = binding

    def lookup(self, name: str) -> Binding | None:
        """The binding of ``name`` here, or None when nothing in the file binds it."""
        scopes = self.scopes
        last = len(scopes) - 1
        for index in range(last, -1, -1):
            scope = scopes[index]
            if scope.kind == "class" and index != last:
                continue
            found = scope.bindings.get(name)
            if found is not None:
                return found
        return None

    def snapshot(self) -> dict[str, Binding]:
        """Every name visible here, flattened (used by the fixer, rarely)."""
        merged: dict[str, Binding] = {}
        scopes = self.scopes
        last = len(scopes) - 1
        for index, scope in enumerate(scopes):
            if scope.kind == "class" and index != last:
                continue
            merged.update(scope.bindings)
        return merged


def attribute_chain(node: cst.BaseExpression) -> tuple[cst.Name, list[str]] | None:
    """``a.b.c``: the name ``a`` and the attributes ``["b", "c"]``; None for anything else."""
    attributes: list[str] = []
    while isinstance(node, cst.Attribute):
        attributes.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    attributes.reverse()
    return node, attributes


def dotted_name(node: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    found = attribute_chain(node)
    return None if found is None else ".".join([found[0].value, *found[1]])


def import_module_name(node: cst.ImportFrom) -> str:
    """The module of ``from X import ...`` as text, keeping leading dots."""
    dots = "." * len(node.relative)
    module = dotted_name(node.module) if node.module is not None else ""
    return dots + (module or "")


def import_bindings(node: cst.Import | cst.ImportFrom) -> list[tuple[str, str]]:
    """``(local name, qualified name)`` pairs an import statement binds.

    A star import binds nothing here; the caller records its module.
    """
    pairs: list[tuple[str, str]] = []
    if isinstance(node, cst.Import):
        for alias in node.names:
            full = dotted_name(alias.name) or ""
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                pairs.append((alias.asname.name.value, full))
            else:
                head = full.split(".", 1)[0]
                pairs.append((head, head))
        return pairs
    if isinstance(node.names, cst.ImportStar):
        return pairs
    module = import_module_name(node)
    for alias in node.names:
        name = dotted_name(alias.name) or ""
        local = name
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            local = alias.asname.name.value
        if not module:
            qualified = name
        elif module.endswith("."):  # ``from . import services``
            qualified = f"{module}{name}"
        else:
            qualified = f"{module}.{name}"
        pairs.append((local, qualified))
    return pairs
