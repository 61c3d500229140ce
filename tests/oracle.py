"""The behavioural oracle: does a fix change what the program does?

Syntactic checks (parses, re-checks clean, idempotent) cannot see that a
rewrite reads an argument too late, registers on the wrong database, or
takes a broker error away from the handler that used to catch it. This
oracle runs modules under real Django transactions (two SQLite databases,
``default`` and ``other``) and compares what they do.

Everything a module imports from outside a small set of real modules
(``django.db``'s transaction API, ``method_decorator``, pure stdlib helpers)
is a :class:`Stub`: a recording stand-in. Each call, attribute store or
item store on a stub is an :class:`Event` with a deep snapshot of its
arguments, taken at the moment of the call (as a broker serialises a job
when it is sent), and the transaction state of both databases at that
moment. Each function and method of the module is called with stubs for
its parameters, alone, inside an outer transaction on either database,
inside one that rolls back, and with a broker that fails every send.

The reference is not the fixer's output: it is the *original* module run
with the intended behaviour applied at run time, independently of any
text rewriting:

* OC101/OC106 (and deferred ``try`` statements): the send made at a fixed
  finding's exact source span, while a transaction is open, is recorded
  later by a real ``on_commit`` callback on the innermost open database,
  with the arguments snapshotted where the call was made;
* OC102: the send at the span is recorded when ``on_commit`` calls the
  value it received;
* OC103: the callback registered at the span sees, for the names the
  finding reports, the values they had at registration (its closure cells
  are set while it runs), and reads everything else at commit;
* OC104: the callback is registered on the database of the innermost open
  transaction instead.

The fixed module, run with plain stubs, must produce exactly the
reference's events, in order, with the same arguments and transaction
states, and the same escaping exception. With a failing broker, where the
original handles every send error, the fixed module must also handle
them: the same events (in any order, since handlers now run after the
commit) and no exception. Where the original lets the error escape, the
fixed one must let the same error escape (after the commit, by design).

Needs Python 3.11+ (instruction positions locate a call by its span).
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import inspect
import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django_setup import ALIASES

from flake8_oncommit.config import Config
from flake8_oncommit.engine import check_text, project_index
from flake8_oncommit.findings import BindEagerly, Finding, PassCallable, SetUsing
from flake8_oncommit.fix import fix_text
from flake8_oncommit.libraries import READ_ONLY_ALIAS

#: The codes whose fix defers the call with ``on_commit`` (jobs, mail, cache).
DEFERRING_CODES = ("OC101", "OC106", "OC108", "OC109")

#: Method and function names that hand a job to a broker: with a failing
#: broker these raise :class:`BrokerDown`.
SEND_NAMES = frozenset(
    {
        "delay",
        "apply_async",
        "send_task",
        "enqueue",
        "enqueue_call",
        "enqueue_in",
        "enqueue_at",
        "enqueue_many",
        "enqueue_job",
        "aenqueue",
        "send_with_options",
        "async_task",
        "async_chain",
        "async_iter",
        "defer",
        "defer_async",
    }
)

#: Celery's commit-aware twins of ``delay`` and ``apply_async``.
COMMIT_AWARE = frozenset({"delay_on_commit", "apply_async_on_commit"})

#: Standard library modules imported for real (pure helpers); every other
#: module is a stub, so that ``logger.exception(...)`` in a handler, say, is
#: an event the oracle sees.
REAL_MODULES = frozenset(
    {
        "__future__",
        "functools",
        "contextlib",
        "typing",
        "dataclasses",
        "collections",
        "collections.abc",
        "itertools",
        "operator",
        "enum",
        "abc",
        "decimal",
        "json",
        "re",
        "math",
        "string",
        "types",
        "copy",
    }
)
#: What ``django.db`` really provides to the modules under test.
REAL_DJANGO_DB = frozenset(
    {
        "transaction",
        "connection",
        "connections",
        "router",
        "DEFAULT_DB_ALIAS",
        "DatabaseError",
        "IntegrityError",
        "OperationalError",
        "Error",
        "InterfaceError",
        "ProgrammingError",
        "DataError",
        "NotSupportedError",
        "InternalError",
    }
)

#: A run that loops forever (``while stub:``) is cut off after this many lines.
LINE_BUDGET = 20_000


class BrokerDown(Exception):
    """What a send raises when the broker is unreachable (the failing-broker runs)."""


class TooLong(BaseException):
    """The line budget ran out (an endless loop over stubs)."""


Span = tuple[int, int, int, int]  # line, column (byte offset), end line, end column (exclusive)


@dataclass(frozen=True)
class Event:
    """One observable action: a call, an attribute store or an item store on a stub."""

    kind: str
    target: str
    detail: str
    #: ``len(connection.atomic_blocks)`` of each database when it happened
    depths: tuple[int, ...]

    def __str__(self) -> str:
        open_ = ", ".join(f"{alias}:{depth}" for alias, depth in zip(ALIASES, self.depths) if depth)
        return f"{self.kind:5} {self.target}{self.detail}  [in transaction: {open_ or 'none'}]"


@dataclass
class Intent:
    """The intended behaviour of one fixed finding, applied to the original at run time."""

    code: str
    span: Span
    #: OC103: the names whose values are bound at registration
    names: tuple[str, ...] = ()


@dataclass
class World:
    """The recording environment of one run."""

    #: the file name of the module under test (its frames are looked at)
    filename: str
    failing_broker: bool = False
    intents: list[Intent] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    lines: int = 0
    #: open atomic blocks, innermost last: database alias, and whether the
    #: project's code opened it (rather than the scenario around the call)
    open_blocks: list[tuple[str, bool]] = field(default_factory=list)
    #: file names of the project's modules executed in this run
    code_files: set[str] = field(default_factory=set)
    #: the project's modules imported in this run (fixtures import each other)
    modules: dict[str, types.ModuleType] = field(default_factory=dict)
    #: names configured as atomic wrappers: stand-ins for ``transaction.atomic``
    atomic_names: frozenset[str] = frozenset()
    #: the atomic blocks the scenario opened around the call (``id()``)
    scenario_blocks: set[int] = field(default_factory=set)
    #: OC102: what the call inside ``on_commit(...)`` did, to become its callback
    pending_callback: list[Callable[[], None]] = field(default_factory=list)
    #: sends that failed (the failing-broker scenarios), and those among them
    #: made by ``on_commit`` callbacks
    broker_errors: int = 0
    deferred_broker_errors: int = 0

    def depths(self) -> tuple[int, ...]:
        return tuple(len(connections[alias].atomic_blocks) for alias in ALIASES)

    def intended_alias(self) -> str | None:
        """The database a deferred job waits for: the innermost writing block the code opened.

        A block on a read replica holds no writes to wait for.

        With none open (only the scenario's transaction, standing in for
        an implicit one: ATOMIC_REQUESTS, the admin's own), the default
        database, as the tool assumes for those. None: no transaction.
        """
        writing = [
            (alias, by_code) for alias, by_code in self.open_blocks if not READ_ONLY_ALIAS.search(alias)
        ]
        if not writing:
            return None
        for alias, by_code in reversed(writing):
            if by_code:
                return alias
        return "default"

    def record(self, kind: str, target: str, detail: str, *, raises: bool = False) -> None:
        """Note an event now, or, inside a call a fix defers, when the transaction commits."""

        def happen() -> None:
            self.events.append(Event(kind, target, detail, self.depths()))
            if raises:
                self.broker_errors += 1
                if _in_commit_hook():
                    self.deferred_broker_errors += 1
                raise BrokerDown(target)

        intent = self.deferring()
        if intent is not None and intent.code == "OC102":
            # Made the callback of the ``on_commit`` call around it (see ``instrumented``).
            self.pending_callback.append(happen)
            return
        alias = self.intended_alias()
        if intent is not None and alias is not None:
            transaction.on_commit(happen, using=alias)
            return
        happen()

    def deferring(self) -> Intent | None:
        """The OC101/OC102/OC106 intent whose call is being made now, if any.

        Everything that happens during that call (its own send, or what a
        function of the module does when it is the call) waits for the
        commit; its arguments were evaluated before, where they stand.
        """
        frame: types.FrameType | None = sys._getframe(2)
        while frame is not None:
            if frame.f_code.co_filename == self.filename:
                intent = self.intent_at(instruction_span(frame), "OC102", *DEFERRING_CODES)
                if intent is not None:
                    return intent
            frame = frame.f_back
        return None

    def intent_at(self, span: Span | None, *codes: str) -> Intent | None:
        """The intent for the call made at ``span``.

        Calls are matched by where they end (their closing parenthesis):
        for a method call written over several lines, CPython starts the
        instruction's span at the method name, not at the receiver. A
        statement ending there too (a ``class`` whose last line is the call)
        starts before the call, and is not it.
        """
        if span is None:
            return None
        for intent in self.intents:
            if intent.code in codes and intent.span[2:] == span[2:] and intent.span[:2] <= span[:2]:
                return intent
        return None

    def intent_around(self, span: Span | None, *codes: str) -> Intent | None:
        """An intent whose span lies inside the call made at ``span`` (OC103: the callback)."""
        if span is None:
            return None
        for intent in self.intents:
            if intent.code in codes and _contains(span, intent.span):
                return intent
        return None


def _in_commit_hook() -> bool:
    """Whether Django is running ``on_commit`` callbacks (or one at once, outside a transaction)."""
    frame: types.FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name in ("run_and_clear_commit_hooks", "on_commit") and "django" in (
            frame.f_code.co_filename
        ):
            return True
        frame = frame.f_back
    return False


def _contains(outer: Span, inner: Span) -> bool:
    return (outer[0], outer[1]) <= (inner[0], inner[1]) and (inner[2], inner[3]) <= (outer[2], outer[3])


def instruction_span(frame: types.FrameType) -> Span | None:
    positions = list(frame.f_code.co_positions())
    index = frame.f_lasti // 2
    if not 0 <= index < len(positions):
        return None
    line, end_line, column, end_column = positions[index]
    if None in (line, end_line, column, end_column):
        return None
    return (line, column, end_line, end_column)  # type: ignore[return-value]


# --------------------------------------------------------------------------
# Snapshots: what a broker would serialise


def snapshot(value: Any, depth: int = 0) -> str:
    """A deterministic, deep text form of ``value`` as it is now."""
    if depth > 6:
        return "..."
    if isinstance(value, Stub):
        return value._describe(depth)
    if isinstance(value, (str, int, float, bool, type(None), bytes)):
        return repr(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [snapshot(item, depth + 1) for item in value]
        if isinstance(value, (set, frozenset)):
            items.sort()
        return f"{type(value).__name__}[{', '.join(items)}]"
    if isinstance(value, dict):
        items = [f"{snapshot(k, depth + 1)}: {snapshot(v, depth + 1)}" for k, v in value.items()]
        return "{" + ", ".join(items) + "}"
    if isinstance(value, functools.partial):
        args = ", ".join(snapshot(arg, depth + 1) for arg in value.args)
        return f"partial({snapshot(value.func, depth + 1)}, {args}, {snapshot(value.keywords, depth + 1)})"
    if isinstance(value, StubTask):
        return f"<task {value._path}>"
    if isinstance(value, (types.FunctionType, types.MethodType, types.BuiltinFunctionType)):
        return f"<function {getattr(value, '__qualname__', '?')}>"
    if isinstance(value, type):
        return f"<class {value.__qualname__}>"
    if isinstance(value, BaseException):
        return f"{type(value).__name__}({', '.join(snapshot(a, depth + 1) for a in value.args)})"
    state = getattr(value, "__dict__", None)
    if isinstance(state, dict):
        return f"<{type(value).__qualname__} {snapshot(state, depth + 1)}>"
    return f"<{type(value).__qualname__}>"


def _detail(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    parts = [snapshot(arg) for arg in args]
    parts += [f"{key}={snapshot(value)}" for key, value in kwargs.items()]
    return "(" + ", ".join(parts) + ")"


# --------------------------------------------------------------------------
# Stubs


_EXCEPTION_SUFFIXES = ("Error", "Exception", "DoesNotExist", "MultipleObjectsReturned", "Exc", "Timeout")
_EXCEPTIONS: dict[str, type[Exception]] = {}


def _exception_class(path: str) -> type[Exception]:
    """A real exception class for a stub name that looks like one (``except X.DoesNotExist``)."""
    found = _EXCEPTIONS.get(path)
    if found is None:
        found = _EXCEPTIONS[path] = type(path.rsplit(".", 1)[-1], (Exception,), {"__module__": "stubs"})
    return found


class Stub:
    """Anything the module under test gets from outside: it records what is done to it."""

    def __init__(self, world: World, path: str) -> None:
        object.__setattr__(self, "_world", world)
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_state", {})

    # -- describing ------------------------------------------------------------

    def _describe(self, depth: int = 0) -> str:
        state = object.__getattribute__(self, "_state")
        if not state:
            return f"<{self._path}>"
        inner = ", ".join(f"{key}={snapshot(value, depth + 1)}" for key, value in sorted(state.items()))
        return f"<{self._path} {inner}>"

    def __repr__(self) -> str:
        return self._describe()

    def __str__(self) -> str:
        return self._path

    def __format__(self, spec: str) -> str:
        return self._path

    # -- attributes and items -------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        state = object.__getattribute__(self, "_state")
        if name in state:
            return state[name]
        return _member(self._world, f"{self._path}.{name}")

    def __setattr__(self, name: str, value: Any) -> None:
        self._world.record("set", f"{self._path}.{name}", f" = {snapshot(value)}")
        self._state[name] = value

    def __delattr__(self, name: str) -> None:
        self._world.record("del", f"{self._path}.{name}", "")
        self._state.pop(name, None)

    def __getitem__(self, key: Any) -> Any:
        state = object.__getattribute__(self, "_state")
        item = ("item", snapshot(key))
        if item in state:
            return state[item]
        return Stub(self._world, f"{self._path}[{snapshot(key)}]")

    def __setitem__(self, key: Any, value: Any) -> None:
        self._world.record("set", f"{self._path}[{snapshot(key)}]", f" = {snapshot(value)}")
        self._state[("item", snapshot(key))] = value

    def __delitem__(self, key: Any) -> None:
        self._world.record("del", f"{self._path}[{snapshot(key)}]", "")

    # -- calling ------------------------------------------------------------------

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        world = self._world
        if len(args) == 1 and not kwargs and isinstance(args[0], (types.FunctionType, type)):
            # Applied as a decorator: a class stays itself, a function becomes a task.
            if isinstance(args[0], type):
                return args[0]
            return StubTask(world, self._path, args[0])
        name = self._path.rsplit(".", 1)[-1]
        if name in COMMIT_AWARE:
            # Celery's DjangoTask: ``transaction.on_commit(partial(self.delay, ...))``.
            path = self._path[: -len("_on_commit")]
            detail = _detail(args, kwargs)
            transaction.on_commit(lambda: world.record("send", path, detail, raises=world.failing_broker))
            return None
        return _send_or_call(world, self._path, name in SEND_NAMES, args, kwargs)

    # -- the rest of the protocol: deterministic, recording nothing ------------------

    def __bool__(self) -> bool:
        return True

    def __iter__(self) -> Iterator[Stub]:
        yield Stub(self._world, f"{self._path}[0]")
        yield Stub(self._world, f"{self._path}[1]")

    def __len__(self) -> int:
        return 2

    def __contains__(self, item: Any) -> bool:
        return False

    def __hash__(self) -> int:
        return hash(self._path)

    def __eq__(self, other: object) -> bool:
        return self is other

    def __lt__(self, other: object) -> bool:
        return False

    __le__ = __gt__ = __ge__ = __lt__

    def __index__(self) -> int:
        return 1

    __int__ = __index__

    def __float__(self) -> float:
        return 1.0

    def __enter__(self) -> Stub:
        self._world.record("enter", self._path, "")
        return Stub(self._world, f"{self._path}.__enter__()")

    def __exit__(self, *exc: Any) -> bool:
        self._world.record("exit", self._path, "")
        return False

    def __await__(self) -> Iterator[Any]:
        return iter(())

    def __mro_entries__(self, bases: tuple[Any, ...]) -> tuple[type, ...]:
        return (object,)

    def _operator(self, *other: Any) -> Stub:
        return Stub(self._world, f"({self._path} op)")

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _operator
    __truediv__ = __floordiv__ = __mod__ = __or__ = __ror__ = __and__ = __neg__ = _operator


class StubTask:
    """A function decorated by a stub decorator (``@shared_task``, ``@receiver(...)``): opaque.

    Calling it records a call (a Huey task call is a send); its send methods
    record sends. Its body is only run when the oracle calls it as an entry
    point.
    """

    def __init__(self, world: World, decorator: str, function: types.FunctionType) -> None:
        self._world = world
        self._path = f"{function.__name__}"
        self._huey = "huey" in decorator or decorator.endswith(("db_task", "HUEY.task"))
        self.function = function

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _send_or_call(self._world, self._path, self._huey, args, kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return Stub(self._world, f"{self._path}.{name}")


class SendResult:
    """What a send returns (an AsyncResult, a Job): not callable, like the real ones."""

    def __init__(self, world: World, path: str) -> None:
        self._stub = Stub(world, f"{path}->result")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stub, name)

    def __await__(self) -> Iterator[Any]:
        return iter(())

    def __repr__(self) -> str:
        return f"<result of {self._stub._path}>"


def _send_or_call(
    world: World, path: str, is_send: bool, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    world.record(
        "send" if is_send else "call", path, _detail(args, kwargs), raises=is_send and world.failing_broker
    )
    return SendResult(world, path) if is_send else Stub(world, f"{path}()")


# --------------------------------------------------------------------------
# Importing: real transaction API, stubs for everything else


class _ProxyModule(types.ModuleType):
    """``django`` / ``django.db``: the real transaction API, stubs for the rest."""

    def __init__(self, world: World, name: str, real: dict[str, Any]) -> None:
        super().__init__(name)
        self.__dict__.update(real)
        self._world = world

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return _member(self._world, f"{self.__name__}.{attribute}")


def _member(world: World, path: str) -> Any:
    """What ``path`` of a stubbed module or object is: an exception class, atomic, or a stub."""
    if path in world.atomic_names:
        return transaction.atomic
    name = path.rsplit(".", 1)[-1]
    if name.endswith(_EXCEPTION_SUFFIXES) and name[:1].isupper():
        return _exception_class(path)
    return Stub(world, path)


def _importer(world: World, root: Path | None, package: str) -> Callable[..., Any]:
    """``__import__`` for the module under test and the project modules it imports.

    The project's own modules (files under ``root``) are executed for real,
    under the same stubs: a project's atomic wrapper really opens a
    transaction, its helpers really run. Everything else is a stub, except
    the real modules listed above.
    """
    from django.utils import decorators as real_decorators

    def django_db() -> Any:
        import django.db as real_db

        return _ProxyModule(world, "django.db", {name: getattr(real_db, name) for name in REAL_DJANGO_DB})

    def project_module(name: str) -> types.ModuleType | None:
        if root is None or not name or not all(part.isidentifier() for part in name.split(".")):
            return None
        if name in world.modules:
            return world.modules[name]
        relative = Path(*name.split("."))
        package_init = root / relative / "__init__.py"
        path = package_init if package_init.is_file() else root / relative.with_suffix(".py")
        if not path.is_file():
            return None
        module = types.ModuleType(name)
        module.__file__ = str(path)
        module.__package__ = name if path == package_init else name.rpartition(".")[0]
        module.__dict__["__builtins__"] = _Builtins(world, root, module.__package__)
        world.modules[name] = module
        filename = f"<oracle project {name}>"
        world.code_files.add(filename)
        try:
            source = path.read_text(encoding="utf-8")
            exec(compile(source, filename, "exec", dont_inherit=True), module.__dict__)
        except Exception:
            pass  # a module the stubs cannot run stays half-made, as in an ImportError
        return module

    def fake_import(
        name: str,
        globals: Any = None,
        locals: Any = None,
        fromlist: tuple[str, ...] | None = (),
        level: int = 0,
    ) -> Any:
        if level:
            base = package.split(".") if package else []
            base = base[: len(base) - (level - 1)] if level > 1 else base
            absolute = ".".join([*base, name] if name else base)
            found = project_module(absolute)
            if found is not None:
                if fromlist:
                    for item in fromlist:
                        if not hasattr(found, item):
                            project_module(f"{absolute}.{item}")
                            if f"{absolute}.{item}" in world.modules:
                                setattr(found, item, world.modules[f"{absolute}.{item}"])
                return found
            return _ProxyModule(world, "." * level + name, {})
        if name in REAL_MODULES:
            return __import__(name, globals, locals, fromlist, 0)
        if name == "django.db.transaction":
            return transaction if fromlist else _ProxyModule(world, "django", {"db": django_db()})
        if name == "django.db":
            return django_db() if fromlist else _ProxyModule(world, "django", {"db": django_db()})
        if name == "django.utils.decorators" and fromlist:
            return _ProxyModule(world, name, {"method_decorator": real_decorators.method_decorator})
        found = project_module(name)
        if found is not None:
            if fromlist:
                for item in fromlist:
                    if not hasattr(found, item) and project_module(f"{name}.{item}") is not None:
                        setattr(found, item, world.modules[f"{name}.{item}"])
                return found
            return project_module(name.split(".", 1)[0]) or found
        if fromlist:
            return _ProxyModule(world, name, {})
        return _ProxyModule(world, name.split(".", 1)[0], {})

    return fake_import


class _Builtins(dict):  # type: ignore[type-arg]
    """Builtins where a name nothing defines is a stub (fixtures use undefined names)."""

    def __init__(self, world: World, root: Path | None = None, package: str = "") -> None:
        super().__init__(vars(builtins))
        self.world = world
        self["__import__"] = _importer(world, root, package)

    def __missing__(self, key: str) -> Any:
        if key.endswith(_EXCEPTION_SUFFIXES) and key[:1].isupper():
            return _exception_class(key)
        return Stub(self.world, key)


# --------------------------------------------------------------------------
# Instrumenting Django while a run lasts


@contextlib.contextmanager
def instrumented(world: World) -> Iterator[None]:
    """Track open atomic blocks; apply the OC103/OC104 intents to registrations."""
    real_enter = transaction.Atomic.__enter__
    real_exit = transaction.Atomic.__exit__
    real_on_commit = BaseDatabaseWrapper.on_commit

    def enter(self: transaction.Atomic) -> None:
        real_enter(self)
        world.open_blocks.append((self.using or "default", id(self) not in world.scenario_blocks))

    def exit_(self: transaction.Atomic, *exc: Any) -> Any:
        with contextlib.suppress(IndexError):
            world.open_blocks.pop()
        return real_exit(self, *exc)

    def on_commit(self: BaseDatabaseWrapper, func: Callable[[], Any], robust: bool = False) -> None:
        span = _registration_span(world)
        target = self
        intent = world.intent_around(span, "OC104")
        alias = world.intended_alias()
        if intent is not None and alias is not None and self.alias != alias:
            # OC104's intent: the callback waits for the innermost block's database.
            target = connections[alias]
        intent = world.intent_around(span, "OC103")
        if intent is not None:
            func = _bound_at_registration(func, intent.names)
        if world.intent_around(span, "OC102") is not None:
            # OC102's intent: what the call did, done when on_commit calls back.
            func = _replay(list(world.pending_callback))
            world.pending_callback.clear()
        real_on_commit(target, func, robust)

    transaction.Atomic.__enter__ = enter  # type: ignore[assignment,method-assign]
    transaction.Atomic.__exit__ = exit_  # type: ignore[assignment,method-assign]
    BaseDatabaseWrapper.on_commit = on_commit  # type: ignore[assignment,method-assign]
    previous_trace = sys.gettrace()

    def tracer(frame: types.FrameType, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename != world.filename and frame.f_code.co_filename not in world.code_files:
            return None
        if event == "line":
            world.lines += 1
            if world.lines > LINE_BUDGET:
                raise TooLong()
        return tracer

    sys.settrace(tracer)
    try:
        yield
    finally:
        sys.settrace(previous_trace)
        transaction.Atomic.__enter__ = real_enter  # type: ignore[method-assign]
        transaction.Atomic.__exit__ = real_exit  # type: ignore[method-assign]
        BaseDatabaseWrapper.on_commit = real_on_commit  # type: ignore[method-assign]


def _replay(actions: list[Callable[[], None]]) -> Callable[[], None]:
    def replay() -> None:
        for action in actions:
            action()

    return replay


def _registration_span(world: World) -> Span | None:
    """The span of the ``on_commit(...)`` call in the module that led here."""
    frame: types.FrameType | None = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename == world.filename:
            return instruction_span(frame)
        frame = frame.f_back
    return None


def _bound_at_registration(func: Callable[[], Any], names: tuple[str, ...]) -> Callable[[], Any]:
    """OC103's intent: ``func`` sees ``names`` as they are now, and everything else at its call."""
    code = getattr(func, "__code__", None)
    closure = getattr(func, "__closure__", None)
    if code is None or closure is None:
        return func
    cells = {name: cell for name, cell in zip(code.co_freevars, closure) if name in names}
    values = {name: cell.cell_contents for name, cell in cells.items()}

    def call() -> Any:
        saved = {name: cell.cell_contents for name, cell in cells.items()}
        for name, cell in cells.items():
            cell.cell_contents = values[name]
        try:
            return func()
        finally:
            for name, cell in cells.items():
                cell.cell_contents = saved[name]

    return call


# --------------------------------------------------------------------------
# Running a module


@dataclass(frozen=True)
class Outcome:
    """What one entry point did in one scenario."""

    events: tuple[Event, ...]
    #: the exception that escaped, as ``Type`` (None: none)
    escaped: str | None
    #: how many sends failed with the broker down (all; made by on_commit callbacks)
    broker_errors: int = 0
    deferred_broker_errors: int = 0

    def show(self) -> str:
        lines = [str(event) for event in self.events]
        lines.append(f"escaped: {self.escaped}; failed sends: {self.broker_errors}")
        return "\n".join(lines)


class Rollback(Exception):
    """Raised by the scenario to roll an outer transaction back."""


#: name -> (outer databases, roll back at the end, failing broker)
SCENARIOS: dict[str, tuple[tuple[str, ...], bool, bool]] = {
    "alone": ((), False, False),
    "in-transaction": (("default",), False, False),
    "in-transaction-other": (("other",), False, False),
    "rolled-back": (("default",), True, False),
    "broker-down": ((), False, True),
    "broker-down-in-transaction": (("default",), False, True),
}


def entry_points(namespace: dict[str, Any], filename: str) -> list[str]:
    """Functions and methods the module defines, as ``name`` or ``Class.name``."""
    found: list[str] = []
    for name, value in list(namespace.items()):
        function = _function_of(value)
        if function is not None and function.__code__.co_filename == filename:
            found.append(name)
        elif isinstance(value, type) and value.__module__ == namespace.get("__name__"):
            for attribute, member in vars(value).items():
                inner = member.__func__ if isinstance(member, (staticmethod, classmethod)) else member
                function = _function_of(inner)
                if function is not None and function.__code__.co_filename == filename:
                    found.append(f"{name}.{attribute}")
    return found


def _function_of(value: Any) -> types.FunctionType | None:
    if isinstance(value, StubTask):
        value = value.function
    while isinstance(value, types.FunctionType):
        wrapped = getattr(value, "__wrapped__", None)
        if value.__code__.co_filename.startswith("<oracle"):
            return value
        if wrapped is None:
            return None
        value = wrapped
    return None


def _resolve_entry(namespace: dict[str, Any], entry: str, world: World) -> Callable[..., Any]:
    if "." not in entry:
        value = namespace[entry]
        return value.function if isinstance(value, StubTask) else value  # type: ignore[no-any-return]
    class_name, attribute = entry.split(".", 1)
    cls = namespace[class_name]
    member = vars(cls)[attribute]
    if isinstance(member, (staticmethod, classmethod)):
        return getattr(cls, attribute)  # type: ignore[no-any-return]
    instance = object.__new__(cls)
    return getattr(instance, attribute)  # type: ignore[no-any-return]


def _arguments(
    function: Callable[..., Any], world: World, defaults: bool
) -> tuple[list[Any], dict[str, Any]]:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return [], {}
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for parameter in signature.parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if defaults and parameter.default is not parameter.empty:
            continue
        value = Stub(world, parameter.name)
        if parameter.kind == parameter.KEYWORD_ONLY:
            kwargs[parameter.name] = value
        else:
            args.append(value)
    return args, kwargs


def _drive(result: Any) -> None:
    """Run a generator or coroutine to its end (no event loop needed for stubs)."""
    if inspect.isgenerator(result):
        for _ in result:
            pass
    elif inspect.iscoroutine(result):
        with contextlib.suppress(StopIteration):
            while True:
                result.send(None)


@dataclass(frozen=True)
class Program:
    """A module to run: its text, and where it sits in its project (for its imports)."""

    source: str
    name: str = "case"
    #: the project's root directory (None: every import but the real ones is a stub)
    root: Path | None = None
    #: the module's dotted name in the project ("" outside a package)
    module: str = ""
    #: configured atomic wrappers (``myapp.db.atomic_write``): run as ``transaction.atomic``
    atomic_names: frozenset[str] = frozenset()

    @property
    def package(self) -> str:
        if self.root is not None and self.module:
            path = self.root / Path(*self.module.split("."))
            if (path / "__init__.py").is_file():
                return self.module
        return self.module.rpartition(".")[0]

    def with_source(self, source: str) -> Program:
        return Program(source, self.name, self.root, self.module, self.atomic_names)


def _namespace(program: Program, world: World) -> dict[str, Any]:
    return {
        "__name__": "oracle_case",
        "__package__": program.package,
        "__builtins__": _Builtins(world, program.root, program.package),
    }


def run(
    program: Program,
    entry: str | None,
    scenario: str,
    *,
    intents: list[Intent] | None = None,
    defaults: bool = False,
) -> Outcome:
    """Execute ``program`` and call ``entry`` (None: only the module body) in ``scenario``."""
    outer, roll_back, failing = SCENARIOS[scenario]
    filename = f"<oracle {program.name}>"
    world = World(
        filename, failing_broker=failing, intents=list(intents or []), atomic_names=program.atomic_names
    )
    namespace = _namespace(program, world)
    escaped: str | None = None
    with instrumented(world):
        try:
            with contextlib.ExitStack() as stack:
                for alias in outer:
                    block = transaction.atomic(using=alias)
                    world.scenario_blocks.add(id(block))
                    stack.enter_context(block)
                exec(compile(program.source, filename, "exec", dont_inherit=True), namespace)
                if entry is not None:
                    function = _resolve_entry(namespace, entry, world)
                    args, kwargs = _arguments(function, world, defaults)
                    _drive(function(*args, **kwargs))
                if roll_back:
                    raise Rollback()
        except Rollback:
            pass
        except TooLong:
            escaped = "TooLong"
        except Exception as error:
            escaped = type(error).__name__
    _assert_clean()
    return Outcome(tuple(world.events), escaped, world.broker_errors, world.deferred_broker_errors)


def _assert_clean() -> None:
    for alias in ALIASES:
        connection = connections[alias]
        if connection.in_atomic_block:  # a broken run must not poison the next one
            while connection.atomic_blocks:
                transaction.Atomic.__exit__(connection.atomic_blocks[-1], Rollback, Rollback(), None)
        assert not connection.in_atomic_block


# --------------------------------------------------------------------------
# Comparing


@dataclass
class Difference:
    entry: str
    scenario: str
    defaults: bool
    expected: Outcome
    actual: Outcome
    why: str

    def __str__(self) -> str:
        return (
            f"{self.entry or '<module>'} [{self.scenario}{', defaults' if self.defaults else ''}]: "
            f"{self.why}\n"
            f"--- reference (original with the intended behaviour)\n{self.expected.show()}\n"
            f"--- fixed\n{self.actual.show()}"
        )


def compare(
    original: Program, fixed: str, intents: list[Intent], *, entries: list[str] | None = None
) -> list[Difference]:
    """Every scenario of every entry point where ``fixed`` does not behave as intended."""
    if entries is None:
        entries = entries_of(original)
    after = original.with_source(fixed)
    differences: list[Difference] = []
    for entry in [None, *entries]:
        for defaults in (False, True):
            if entry is None and defaults:
                continue
            for scenario, (_, _, failing) in SCENARIOS.items():
                if failing:
                    # With the broker down the reference is the original as written.
                    expected = run(original, entry, scenario, defaults=defaults)
                else:
                    expected = run(original, entry, scenario, intents=intents, defaults=defaults)
                actual = run(after, entry, scenario, defaults=defaults)
                why = _judge(expected, actual, failing)
                if why is not None:
                    differences.append(Difference(entry or "", scenario, defaults, expected, actual, why))
    return differences


def entries_of(program: Program) -> list[str]:
    """The functions and methods ``program`` defines (see :func:`entry_points`)."""
    filename = f"<oracle {program.name}>"
    world = World(filename, atomic_names=program.atomic_names)
    namespace = _namespace(program, world)
    with instrumented(world), contextlib.suppress(Exception, TooLong):
        exec(compile(program.source, filename, "exec", dont_inherit=True), namespace)
    _assert_clean()
    return entry_points(namespace, filename)


def _judge(expected: Outcome, actual: Outcome, failing: bool) -> str | None:
    if not failing:
        if expected.escaped != actual.escaped:
            return f"escaping exception {expected.escaped} != {actual.escaped}"
        if expected.events != actual.events:
            return "different events"
        return None
    # The broker is down. Where the original handled every send error, the
    # fixed code must handle them too, doing the same things (now after the
    # commit, so in any order relative to the rest). Where a send error
    # escaped the original, it escapes the fixed code after the commit by
    # design (the rest of the block now runs first, and may fail first);
    # any other error must escape as before.
    if expected.escaped is None:
        if actual.escaped is not None:
            return (
                f"with the broker down: the original handled the error, the fix lets {actual.escaped} escape"
            )
        if sorted(map(str, _undated(expected.events))) != sorted(map(str, _undated(actual.events))):
            return "with the broker down: the handlers did not do the same things"
        return None
    if expected.escaped == "BrokerDown":
        # A deferred send rolled back is never attempted (no error then, by
        # design), and the rest of the block may now fail or swallow first;
        # but a deferred send's own error must not vanish.
        if actual.escaped is None and actual.deferred_broker_errors:
            return "with the broker down: the deferred send's error no longer escapes"
        return None
    if expected.escaped != actual.escaped:
        return f"with the broker down: escaping exception {expected.escaped} != {actual.escaped}"
    return None


def _undated(events: tuple[Event, ...]) -> list[Event]:
    """Events without their transaction state (handlers legitimately run after the commit)."""
    return [Event(event.kind, event.target, event.detail, ()) for event in events]


# --------------------------------------------------------------------------
# The intents of a fix, from the engine


def _byte_column(lines: list[str], line: int, column: int) -> int:
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    return len(text[:column].encode("utf-8"))


def _span(lines: list[str], finding: Finding) -> tuple[int, int, int, int]:
    return (
        finding.line,
        _byte_column(lines, finding.line, finding.column),
        finding.end_line,
        _byte_column(lines, finding.end_line, finding.end_column),
    )


def fix_with_intents(
    text: str, config: Config, *, filename: str = "case.py", root: Path | None = None
) -> tuple[str, list[Intent]]:
    """The fixed text, and the intended behaviour of each fix it made."""
    index = project_index(root, config) if root is not None else None
    result = check_text(text, config, filename=filename, index=index)
    outcome = fix_text(text, config, filename=filename, result=result, index=index)
    fixed = set(outcome.fixed)
    lines = result.text.splitlines()
    intents = []
    for finding, raw in result.pairs:
        if finding not in fixed:
            continue
        names: tuple[str, ...] = ()
        if isinstance(raw.fix, BindEagerly):
            names = raw.fix.bound_names
        elif not isinstance(raw.fix, (PassCallable, SetUsing)):
            assert raw.code in DEFERRING_CODES, raw.code
        intents.append(Intent(finding.code, _span(lines, finding), names))
    return outcome.text, intents
