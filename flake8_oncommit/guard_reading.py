"""Reading code for guards (:mod:`.guards`): a function's flags, the calls that wait on them,
what a call passes; and the guards of one module's functions after the walk."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import libcst as cst

from .guards import OFF, OPEN, PARAMETER, UNKNOWN, CallShape, Guard, reach, recursion
from .walk import iter_children, iter_descendants, methods_of, names_assigned


class CallGraph(Protocol):
    """What guards read of :class:`~.callgraph.CallGraph` (which imports this module)."""

    enqueue_nodes: dict[int, list[cst.Call]]
    edge_calls: dict[int, list[tuple[cst.Call, cst.FunctionDef]]]
    named_calls: dict[int, list[tuple[cst.Call, str, bool]]]


def through_class(call: cst.Call, resolve: Callable[[cst.BaseExpression], object] | None = None) -> bool:
    """``Service.run(...)``, ``services.Service.run(...)``, ``service_cls.run(...)`` (an import of
    a class under another name, when ``resolve`` gives what a name is bound to): the first
    parameter may be passed."""
    func = call.func
    if not isinstance(func, cst.Attribute):
        return False
    receiver = func.value
    name = receiver.attr.value if isinstance(receiver, cst.Attribute) else None
    name = receiver.value if isinstance(receiver, cst.Name) else name
    if name is not None and name[:1].isupper():
        return True
    if resolve is not None and isinstance(receiver, cst.Name):
        bound = resolve(receiver)
        return isinstance(bound, str) and bound.rsplit(".", 1)[-1][:1].isupper()
    return False


@dataclass(frozen=True)
class Signature:
    """What a guard needs of a function's parameters."""

    #: the flags it can test: named parameters it never rebinds
    flags: frozenset[str]
    #: the parameters a call passes positionally, in order (``self``/``cls`` left out)
    positional: tuple[str, ...]
    #: parameters whose default is a falsy literal
    off_by_default: tuple[str, ...]


def signature(function: cst.FunctionDef, *, bound: bool) -> Signature:
    """``bound``: a method called through an instance or its class (the first parameter is implicit).
    A function under any other decorator than ``staticmethod``/``classmethod`` tests no flag."""
    params = function.params
    positional = [param.name.value for param in (*params.posonly_params, *params.params)]
    if bound and positional and not _is_static(function):
        positional = positional[1:]
    named = (*params.posonly_params, *params.params, *params.kwonly_params)
    off = tuple(param.name.value for param in named if param.default is not None and is_off(param.default))
    # Positional-only ones are left out: ``f(flag=False)`` would go into ``**kwargs``, not to them.
    # A flag the body rebinds (assigns, imports, deletes, declares global) tells nothing at the call.
    rebound = names_assigned(function.body, declared=True)
    flags = frozenset(param.name.value for param in (*params.params, *params.kwonly_params)) - rebound
    if any(not _is_method_decorator(decorator) for decorator in function.decorators):
        flags = frozenset()  # a decorator may pass or change what its caller passes
    return Signature(flags, tuple(positional), off)


def is_off(value: cst.BaseExpression) -> bool:
    """``False``, ``None``, ``0``, ``""``."""
    if isinstance(value, cst.Name):
        return value.value in ("False", "None")
    if isinstance(value, cst.Integer):
        return value.value in ("0", "0x0", "0o0", "0b0")
    if isinstance(value, cst.SimpleString):
        return value.raw_value == ""
    return False


def _is_method_decorator(decorator: cst.Decorator) -> bool:
    return isinstance(decorator.decorator, cst.Name) and decorator.decorator.value in (
        "staticmethod",
        "classmethod",
    )


def _is_static(function: cst.FunctionDef) -> bool:
    return any(
        isinstance(decorator.decorator, cst.Name) and decorator.decorator.value == "staticmethod"
        for decorator in function.decorators
    )


def shape_of(
    call: cst.Call,
    flags: frozenset[str],
    conditions: frozenset[str] = frozenset(),
    *,
    shifted: bool = False,
    target: str | None = None,
) -> CallShape:
    """What ``call`` passes; ``flags``: the caller's parameters a bare name may pass on.
    ``target``: the name of the function it runs, when ``obj.save()`` runs another one
    (DRF's ``serializer.save()`` runs ``create()``): its arguments are not that one's."""
    if target is not None and isinstance(call.func, cst.Attribute) and call.func.attr.value != target:
        return CallShape(conditions, star=True)

    def value_of(expression: cst.BaseExpression) -> str:
        if is_off(expression):
            return OFF
        if isinstance(expression, cst.Name) and expression.value in flags:
            return f"{PARAMETER}{expression.value}"
        return UNKNOWN

    positional: list[str] = []
    keywords: list[tuple[str, str]] = []
    star = False
    for arg in call.args:
        if arg.star:
            star = True
        elif arg.keyword is not None:
            keywords.append((arg.keyword.value, value_of(arg.value)))
        else:
            positional.append(value_of(arg.value))
    return CallShape(conditions, tuple(positional), tuple(keywords), star, shifted)


def conditions(function: cst.FunctionDef, flags: frozenset[str]) -> dict[int, frozenset[str]]:
    """Every call in ``function``'s own body that runs only when some of ``flags`` are truthy:
    under ``if flag:``, ``elif flag:``, ``if flag and ...:``, or the ``else:`` of ``if not flag:``."""
    found: dict[int, frozenset[str]] = {}
    pending: list[tuple[cst.CSTNode, frozenset[str]]] = [(function.body, frozenset())]
    while pending:
        node, active = pending.pop()
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue  # runs later, as its own function
        if isinstance(node, cst.If):
            on, off = _tested(node.test, flags)
            pending.append((node.test, active))
            pending.append((node.body, active | on))
            if isinstance(node.orelse, cst.If):
                pending.append((node.orelse, active))
            elif node.orelse is not None:
                pending.append((node.orelse, active | off))
            continue
        if isinstance(node, cst.Call) and active:
            found[id(node)] = active
        pending.extend((child, active) for child in iter_children(node))
    return found


def _tested(test: cst.BaseExpression, flags: frozenset[str]) -> tuple[frozenset[str], frozenset[str]]:
    """The flags that are truthy in the body of ``if test:``, and in its ``else:``."""
    if isinstance(test, cst.Name) and test.value in flags:
        return frozenset({test.value}), frozenset()
    if (
        isinstance(test, cst.UnaryOperation)
        and isinstance(test.operator, cst.Not)
        and isinstance(test.expression, cst.Name)
        and test.expression.value in flags
    ):
        return frozenset(), frozenset({test.expression.value})
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        left, _ = _tested(test.left, flags)
        right, _ = _tested(test.right, flags)
        return left | right, frozenset()
    return frozenset(), frozenset()


class LocalGuards:
    """The guards of one module's functions, from the walk's call graph (after the walk).

    ``elsewhere`` gives the guard of a function of another module by its absolute
    name (the project index; None: no enqueue is reached through it, and for a
    function of this module, which is followed through the graph's edges).
    """

    def __init__(
        self,
        graph: CallGraph,
        module: cst.Module,
        elsewhere: Callable[[str], Guard | None],
    ) -> None:
        self.graph = graph
        self.module = module
        self.elsewhere = elsewhere
        self._guards: dict[int, Guard | None] = {}
        self._active: set[int] = set()
        self._methods: set[int] | None = None

    def is_method(self, function: cst.FunctionDef) -> bool:
        if self._methods is None:
            self._methods = {
                id(method)
                for node in iter_descendants(self.module)
                if isinstance(node, cst.ClassDef)
                for method in methods_of(node).values()
            }
        return id(function) in self._methods

    def signature(self, function: cst.FunctionDef) -> Signature:
        return signature(function, bound=self.is_method(function))

    def guard(self, function: cst.FunctionDef) -> Guard | None:
        key = id(function)
        if key in self._guards:
            return self._guards[key]
        if key in self._active:
            return OPEN  # a cycle: counted as on (precision first)
        self._active.add(key)
        try:
            found = self._compute(function)
        finally:
            self._active.discard(key)
        self._guards[key] = found
        return found

    def _compute(self, function: cst.FunctionDef) -> Guard | None:
        graph = self.graph
        key = id(function)
        shape = self.signature(function)
        tested = conditions(function, shape.flags)
        none: frozenset[str] = frozenset()
        found = [tested.get(id(call), none) for call in graph.enqueue_nodes.get(key, ())]
        recursive = []
        for call, target in graph.edge_calls.get(key, ()):
            if target is function:
                recursive.append(
                    shape_of(call, shape.flags, tested.get(id(call), none), target=function.name.value)
                )
                continue
            passed = shape_of(call, shape.flags, tested.get(id(call), none), target=target.name.value)
            reached = reach(passed, self.guard(target))
            if reached is not None:
                found.append(reached)
        for name, passed in named_shapes(graph, function, shape.flags, tested):
            reached = reach(passed, self.elsewhere(name))
            if reached is not None:
                found.append(reached)
        return recursion(found, recursive, shape.positional, shape.off_by_default)


def named_shapes(
    graph: CallGraph, function: cst.FunctionDef, flags: frozenset[str], tested: dict[int, frozenset[str]]
) -> list[tuple[str, CallShape]]:
    """What ``function``'s calls to other modules' functions pass (absolute name, shape)."""
    none: frozenset[str] = frozenset()
    return [
        (
            name,
            shape_of(
                call, flags, tested.get(id(call), none), shifted=shifted, target=name.rsplit(".", 1)[-1]
            ),
        )
        for call, name, shifted in graph.named_calls.get(id(function), ())
    ]
