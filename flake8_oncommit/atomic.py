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
    LocalClass,
    LocalFunction,
    LocalInstance,
    ProjectCall,
    absolute_name,
    import_bindings,
)
from .planning import catches_send_errors
from .resolution import Resolver, alias_text, argument, using_argument
from .walk import block_body, iter_children, iter_descendants, parameter_names


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
    #: what opened it (a ``with`` item or a decorator), for messages (see :mod:`.where`)
    opener: cst.BaseExpression | None = None
    opener_is_decorator: bool = False
    #: said instead, for blocks no code opens (Django admin's transactions)
    origin: str | None = None
    #: why ``using`` cannot be repeated at an enqueue inside (when not portable)
    using_reason: str | None = None


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
        call = node if isinstance(node, cst.Call) else None
        found = self.resolve(call.func if call is not None else node)
        if call is None and isinstance(found, AtomicContext):
            return self.block(found.using)
        if call is None and isinstance(found, ProjectCall):
            # ``tx = write_tx()`` earlier; ``with tx:`` here.
            return self._project_wrapper(found.qualified, found.call)
        wrapper = self.wrapper(found)
        if wrapper is not None:
            return self._wrapper_block(wrapper, call, wrapper.node.name.value)
        if self.is_atomic(found):
            return self.block(using_argument(call)) if call is not None else AtomicBlock(None)
        return self._project_wrapper(found, call) if project else None

    def _wrapper_block(self, wrapper: AtomicWrapper, call: cst.Call | None, name: str) -> AtomicBlock:
        """The block a wrapper opens at one call site: its alias read from the call when it takes one."""
        if not wrapper.using_known:
            return AtomicBlock(
                None,
                using_portable=False,
                using_reason=f"the atomic block's database is chosen inside {name}(), not repeatable here",
            )
        if wrapper.using_parameter is None:
            return self.block(wrapper.using)
        arg = (
            argument(call, wrapper.using_parameter, wrapper.using_position or 0) if call is not None else None
        )
        if arg is not None:
            return self.block(_none_is_default(arg.value))
        if wrapper.using_default is not None and (call is None or not _has_star_args(call)):
            return self.block(_none_is_default(wrapper.using_default))
        return AtomicBlock(
            None,
            using_portable=False,
            using_reason=f"the atomic block's database is a parameter of {name}() not given here",
        )

    def _project_wrapper(self, found: Binding | None, call: cst.Call | None) -> AtomicBlock | None:
        """An atomic wrapper defined in another module of the project."""
        summary = self.project_function(found, "wrapper")
        if summary is None or not summary.wrapper:
            return None
        name = found.rsplit(".", 1)[-1] if isinstance(found, str) else "the wrapper"
        wrapper = AtomicWrapper(
            cst.FunctionDef(cst.Name(name), cst.Parameters(), cst.IndentedBlock([])),
            using=_literal(summary.wrapper_using),
            using_parameter=summary.wrapper_using_parameter,
            using_position=summary.wrapper_using_position,
            using_default=(
                (_literal(summary.wrapper_using_default) or cst.Name("None"))
                if summary.wrapper_using_optional
                else None
            ),
            using_known=not summary.wrapper_using_unknown,
        )
        return self._wrapper_block(wrapper, call, name)

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

    def is_own_class(self, node: cst.BaseExpression) -> bool:
        """A class defined in this module (an exception class of its own, say)."""
        return isinstance(self.resolve(node), LocalClass)

    def is_exit_stack(self, node: cst.BaseExpression) -> bool:
        """``contextlib.ExitStack()``: its ``enter_context(atomic())`` opens a block until it ends."""
        return isinstance(node, cst.Call) and self.qualified(node.func) in lib.EXIT_STACKS

    def may_swallow(self, node: cst.BaseExpression) -> bool:
        """A context manager that can swallow an exception raised in its body.

        ``contextlib.suppress(...)``, and this module's own context managers
        that can: a ``@contextmanager`` catching around its ``yield``, a class
        whose ``__exit__`` can return a value. Others (libraries, atomic
        blocks, locks, spans) are taken not to.
        """
        target = node.func if isinstance(node, cst.Call) else node
        found = self.resolve(target)
        if isinstance(found, str):
            if found not in lib.SWALLOWING_CONTEXT_MANAGERS:
                return False
            types = [arg.value for arg in node.args] if isinstance(node, cst.Call) else []
            return any(catches_send_errors(value, self.is_own_class) for value in types) or any(
                arg.star for arg in getattr(node, "args", ())
            )
        if isinstance(found, LocalFunction):
            return _catches_around_yield(found.node)
        if isinstance(found, LocalClass) and isinstance(node, cst.Call):
            return _exit_may_swallow(found.node)
        if isinstance(found, LocalInstance):
            return _exit_may_swallow(found.cls)
        return False

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
    """How the wrapper's block chooses its database, as its call sites can repeat it.

    A literal (or no ``using``) means the same everywhere; a parameter of the
    wrapper is read at each call site; anything else (settings, a computed
    alias) cannot be repeated at an enqueue inside.
    """
    if block is None:
        return None
    using = block.using
    if using is None or isinstance(using, (cst.SimpleString, cst.ConcatenatedString)):
        return AtomicWrapper(function, using)
    if isinstance(using, cst.Name) and using.value == "None":
        return AtomicWrapper(function, None)
    if isinstance(using, cst.Name):
        params = [*function.params.posonly_params, *function.params.params]
        for position, param in enumerate(params):
            if param.name.value == using.value:
                return AtomicWrapper(function, None, using.value, position, param.default)
        for param in function.params.kwonly_params:
            if param.name.value == using.value:
                return AtomicWrapper(function, None, using.value, 10_000, param.default)
    return AtomicWrapper(function, None, using_known=False)


def _none_is_default(node: cst.BaseExpression) -> cst.BaseExpression | None:
    return None if isinstance(node, cst.Name) and node.value == "None" else node


def _has_star_args(call: cst.Call) -> bool:
    return any(arg.star for arg in call.args)


def _literal(alias: str | None) -> cst.BaseExpression | None:
    if alias is None:
        return None
    return cst.SimpleString(f'"{alias}"' if '"' not in alias and "\\" not in alias else repr(alias))


def _catches_around_yield(function: cst.FunctionDef) -> bool:
    """A generator context manager whose ``yield`` sits in a ``try`` with handlers."""
    return any(
        isinstance(node, (cst.Try, cst.TryStar))
        and bool(node.handlers)
        and any(isinstance(inner, cst.Yield) for inner in iter_descendants(node.body, into_scopes=False))
        for node in iter_descendants(function.body, into_scopes=False)
    )


def _exit_may_swallow(cls: cst.ClassDef) -> bool:
    """A class whose ``__exit__`` returns something (a true value swallows the exception)."""
    body = block_body(cls)
    for statement in body:
        if isinstance(statement, cst.FunctionDef) and statement.name.value in ("__exit__", "__aexit__"):
            return any(
                isinstance(node, cst.Return)
                and node.value is not None
                and not (isinstance(node.value, cst.Name) and node.value.value in ("None", "False"))
                for node in iter_descendants(statement.body, into_scopes=False)
            )
    return False


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
