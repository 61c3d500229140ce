"""Atomic blocks: ``transaction.atomic`` in all its spellings, and wrappers of it.

Decorators and context managers, ``method_decorator``, names bound to an
atomic call, configured wrappers, the module's own wrappers (a
``@contextmanager`` yielding inside ``atomic()``, a decorator applying it)
and wrappers defined in the project's other modules (through the index).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import libcst as cst

from . import libraries as lib
from .names import (
    LOCAL,
    AtomicContext,
    AtomicWrapper,
    Binding,
    LocalFunction,
    ProjectCall,
    absolute_name,
    import_bindings,
)
from .resolution import Resolver, alias_text, using_argument
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


class AtomicRecognizer(Resolver):
    """Which expressions open an atomic block (as a decorator or context manager)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: the module's own functions checked for being wrappers, and the answer
        self._wrappers: dict[int, AtomicWrapper | None] = {}

    def atomic_of(self, node: cst.BaseExpression, *, project: bool = True) -> AtomicBlock | None:
        """The atomic block ``node`` opens as a decorator or context manager.

        ``project=False`` leaves the project's other modules unasked.
        """
        if isinstance(node, cst.Call):
            found = self.resolve(node.func)
            wrapper = self.wrapper(found)
            if wrapper is not None:
                return self.block(wrapper.using)
            if self.is_atomic(found):
                return self.block(using_argument(node))
            return self._project_wrapper(found) if project else None
        found = self.resolve(node)
        if isinstance(found, AtomicContext):
            return self.block(found.using)
        if isinstance(found, ProjectCall):
            # ``tx = write_tx()`` earlier; ``with tx:`` here.
            return self._project_wrapper(found.qualified)
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
    names = parameter_names(function.params)
    for node in iter_descendants(function.body):
        if isinstance(node, cst.FunctionDef):
            names |= parameter_names(node.params)
    # ``*args``/``**kwargs`` of the wrapper are not the decorated function.
    return {name for name in names if name not in ("self", "cls", "args", "kwargs", "a", "kw")}


def _decorator_list(node: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    """``[a, b]`` / ``(a, b)`` as given to method_decorator, or the one decorator."""
    if isinstance(node, (cst.List, cst.Tuple)):
        for element in node.elements:
            yield element.value
    else:
        yield node
