"""The guard: while active, every job sent while a transaction is open is a finding.

It watches the send points of :data:`~.send_points.LIBRARIES` and the
project's configured ``enqueue-functions``, and Django's atomic blocks
(:mod:`.transactions`). A send made while the code's (or the request's)
atomic block is open on any writable database is recorded once per code
path (send site and block site), with both stacks, under the static rule's
code and message: OC101 for a block the code opened, OC106 when the only
open transaction is the request's under ``ATOMIC_REQUESTS``, and OC104 when
the send comes from an ``on_commit()`` callback that Django ran at once
because it was registered on another database, one with no transaction.

Not findings, by construction: sends from ``on_commit`` callbacks (they run
after COMMIT, no block open), Celery's ``delay_on_commit`` (the same), sends
inside the test framework's own blocks, sends to transactional queues, and a
send made while another send is in progress (``delay`` -> ``apply_async`` ->
``send_task`` is one send; an eager task's own sends happen in the worker in
production). ``# noqa`` (or ``# noqa: OC101``) on the send line or on the
line that opened the block silences a finding, as flake8 reads it.
"""

from __future__ import annotations

import functools
import linecache
import sys
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from types import FrameType, ModuleType, TracebackType
from typing import Any

from ..config import DEFAULT_CONFIG, Config
from ..libraries import READ_ONLY_ALIAS
from ..noqa import NoqaFilter, file_is_excluded
from ..rules import RULES
from .patching import ImportWatcher, Patches, Wrap, resolve
from .report import (
    Location,
    RaceFinding,
    block_entry,
    definition_location,
    finding_key,
    format_report,
    frame_location,
    in_modules,
    stack,
)
from .send_points import LIBRARIES, Describe, QueueLibrary, Send, SendPoint
from .transactions import BlockTracker, OpenBlock, thread_state

#: Said in every message: the static tool's words, seen happening.
OBSERVED = " (observed at run time)"

_active: Guard | None = None
_active_lock = threading.Lock()


class GuardError(RuntimeError):
    """The guard cannot start (another one is active)."""


class Guard:
    """Start it, run the code (a test suite), read :attr:`findings`, stop it."""

    def __init__(self, config: Config = DEFAULT_CONFIG, *, root: str | Path | None = None) -> None:
        self.config = config
        self.root = Path(root).resolve() if root is not None else Path.cwd()
        #: the current test (or any label): findings remember where they were first seen
        self.context: str | None = None
        #: jobs sent while watched (outermost send calls), findings or not
        self.sends = 0
        #: libraries whose send points are wrapped
        self.hooked: list[str] = []
        #: send points and configured functions that could not be wrapped
        self.problems: list[str] = []
        self._findings: dict[tuple[str, str, int, str, int], RaceFinding] = {}
        self._silenced: set[tuple[str, str, int, str, int]] = set()
        #: (finding key, context) for every send that was a finding
        self._events: list[tuple[tuple[str, str, int, str, int], str | None]] = []
        self._noqa: dict[str, NoqaFilter | None] = {}
        self._lock = threading.RLock()
        self._patches = Patches()
        self._watcher = ImportWatcher()
        self._tracker = BlockTracker()
        self._transactional = frozenset(config.transactional_queues).union(
            *(library.transactional_classes for library in LIBRARIES)
        )
        self._configured_done: set[str] = set()
        self._read_only_aliases: dict[str, bool] = {}

    # -- lifecycle --------------------------------------------------------------

    @property
    def active(self) -> bool:
        return _active is self

    def start(self) -> Guard:
        global _active
        with _active_lock:
            if _active is not None:
                raise GuardError("an oncommit guard is already active in this process")
            _active = self
        self._watcher.when_imported("django.db.transaction", self._safely(self._install_atomic))
        self._watcher.when_imported("django.core.handlers.base", self._safely(self._install_request))
        for library in LIBRARIES:
            for point in library.send_points:
                install = functools.partial(self._install_point, library, point)
                self._watcher.when_imported(point.module, self._safely(install))
        for dotted in sorted(self.config.enqueue_functions):
            self._watch_configured(dotted)
        return self

    def stop(self) -> None:
        global _active
        self._watcher.close()
        self._patches.undo()
        thread_state.blocks.clear()
        with _active_lock:
            if _active is self:
                _active = None

    def __enter__(self) -> Guard:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- results ----------------------------------------------------------------

    @property
    def findings(self) -> list[RaceFinding]:
        """Distinct findings, in the order first seen."""
        with self._lock:
            return list(self._findings.values())

    @property
    def event_count(self) -> int:
        """A mark for :meth:`findings_since`."""
        return len(self._events)

    def findings_since(self, mark: int) -> list[RaceFinding]:
        """The distinct findings of the sends made after ``mark`` (for strict mode)."""
        with self._lock:
            keys = dict.fromkeys(key for key, _ in self._events[mark:])
            return [self._findings[key] for key in keys]

    def report(self) -> str:
        return format_report(self.findings, self.root, self.sends, sorted(set(self.hooked)))

    # -- installing -------------------------------------------------------------

    def _safely(self, install: Callable[[ModuleType], None]) -> Callable[[ModuleType], None]:
        """An install step never breaks the application's import."""

        def run(module: ModuleType) -> None:
            if not self.active:
                return
            try:
                install(module)
            except Exception as error:
                self.problems.append(f"{module.__name__}: {type(error).__name__}: {error}")

        return run

    def _install_atomic(self, module: ModuleType) -> None:
        self._tracker.install_atomic(self._patches, module)

    def _install_request(self, module: ModuleType) -> None:
        self._tracker.install_request(self._patches, module)

    def _install_point(self, library: QueueLibrary, point: SendPoint, module: ModuleType) -> None:
        found = resolve(module, point.attribute)
        if found is None:
            self.problems.append(
                f"{library.kind.value}: {point.module}.{point.attribute} not found (version?)"
            )
            return
        owner, name = found
        wrap = self._send_wrapper(
            library.kind.value, (*library.packages, *library.frame_packages), point.describe
        )
        if isinstance(owner, type):
            if point.subclasses:
                self._patches.wrap_with_subclasses(owner, name, wrap)
            else:
                self._patches.wrap_method(owner, name, wrap)
        else:
            self._patches.replace(owner, name, wrap(getattr(owner, name)))
        self.hooked.append(library.kind.value)

    def _watch_configured(self, dotted: str) -> None:
        """``enqueue-functions``: ``pkg.module.func`` or ``pkg.module.Class.method``."""
        parts = dotted.split(".")
        for split in range(len(parts) - 1, 0, -1):
            module_name, attribute = ".".join(parts[:split]), ".".join(parts[split:])
            install = functools.partial(self._install_configured, dotted, attribute)
            self._watcher.when_imported(module_name, self._safely(install))

    def _install_configured(self, dotted: str, attribute: str, module: ModuleType) -> None:
        if dotted in self._configured_done:
            return
        found = resolve(module, attribute)
        if found is None:
            return
        owner, name = found
        self._configured_done.add(dotted)

        def describe(args: tuple[Any, ...], kwargs: Any) -> Send:
            return Send(f"{dotted}()", frozenset({dotted}))

        wrap = self._send_wrapper("enqueue-functions", (), describe)
        if isinstance(owner, type):
            self._patches.wrap_method(owner, name, wrap)
            return
        original = vars(owner)[name]
        wrapped = wrap(original)
        self._patches.replace(owner, name, wrapped)
        # Modules loaded before the guard started may hold it by name.
        for other in list(sys.modules.values()):
            namespace = getattr(other, "__dict__", None)
            if other is owner or not isinstance(namespace, dict):
                continue
            for key, value in list(namespace.items()):
                if value is original:
                    self._patches.replace(other, key, wrapped)
        self.hooked.append("enqueue-functions")

    def _send_wrapper(self, library: str, packages: tuple[str, ...], describe: Describe) -> Wrap:
        guard = self

        def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def send(*args: Any, **kwargs: Any) -> Any:
                state = thread_state
                if state.sending:
                    return original(*args, **kwargs)
                state.sending = True
                try:
                    guard.sends += 1
                    if state.blocks:
                        guard._observe(library, packages, describe, args, kwargs, sys._getframe(1))
                    return original(*args, **kwargs)
                finally:
                    state.sending = False

            return send

        return wrap

    # -- observing --------------------------------------------------------------

    def _observe(
        self,
        library: str,
        packages: tuple[str, ...],
        describe: Describe,
        args: tuple[Any, ...],
        kwargs: Any,
        caller: FrameType,
    ) -> None:
        try:
            self._check_send(library, packages, describe, args, kwargs, caller)
        except Exception as error:  # the application's send must go on
            message = f"oncommit guard: internal error while checking a {library} send: {error!r}"
            if message not in self.problems:
                self.problems.append(message)
                warnings.warn(message, RuntimeWarning, stacklevel=2)

    def _check_send(
        self,
        library: str,
        packages: tuple[str, ...],
        describe: Describe,
        args: tuple[Any, ...],
        kwargs: Any,
        caller: FrameType,
    ) -> None:
        blocks = [block for block in self._tracker.open_blocks() if not self._read_only(block.alias)]
        if not blocks:
            return
        code_blocks = [block for block in blocks if block.kind == "code"]
        code = "OC101" if code_blocks else "OC106"
        block = (code_blocks or blocks)[-1]
        skip = (*packages, "flake8_oncommit.runtime")
        registered = _ran_at_once_by_on_commit(caller, skip)
        if registered is not None:
            # on_commit() on a database with no transaction runs the callback
            # at once: the job is sent inside the other database's block.
            code, skip = "OC104", (*skip, *DJANGO_TRANSACTION_MODULES)
        if not self.config.selects(code):
            return
        site = caller
        while site.f_back is not None and in_modules(site, skip):
            site = site.f_back
        send_location = frame_location(site)
        block_location, block_outer = self._block_location(block)
        key = finding_key(code, send_location, block_location)
        if self._seen_again(key):
            return
        # Described only for a new code path: a repeat costs a frame walk and a lookup.
        sent = describe(args, kwargs)
        if sent.identities & self._transactional:
            return
        if self._silenced_by_noqa(code, send_location) or self._silenced_by_noqa(code, block_location):
            with self._lock:
                self._silenced.add(key)
            return
        where = (
            "the request transaction (ATOMIC_REQUESTS)" if block.kind == "request" else "transaction.atomic()"
        )
        message = RULES[code].message.format(
            call=sent.what, registered=repr(registered), expected=repr(block.alias), where=where
        )
        finding = RaceFinding(
            code=code,
            message=message + OBSERVED,
            library=library,
            send=send_location,
            block=block_location,
            block_description=self._describe_block(block),
            send_stack=stack(None, site, skip),
            block_stack=stack(block_location, block_outer),
            first_seen_in=self.context,
            count=0,
        )
        with self._lock:
            self._findings.setdefault(key, finding)
        self._seen_again(key)

    def _seen_again(self, key: tuple[str, str, int, str, int]) -> bool:
        """Count a send of a known finding (or a silenced one); False for a new one."""
        with self._lock:
            if key in self._silenced:
                return True
            finding = self._findings.get(key)
            if finding is None:
                return False
            finding.count += 1
            if self.context and self.context not in finding.tests:
                finding.tests.append(self.context)
            self._events.append((key, self.context))
            return True

    def _read_only(self, alias: str) -> bool:
        known = self._read_only_aliases.get(alias)
        if known is None:
            known = alias in self.config.read_only_databases or READ_ONLY_ALIAS.search(alias) is not None
            self._read_only_aliases[alias] = known
        return known

    def _block_location(self, block: OpenBlock) -> tuple[Location, FrameType | None]:
        if block.kind == "request":
            view = getattr(block.view, "view_class", None) or block.view
            location = definition_location(view)
            if location is not None:
                return location, block.frame
        return block_entry(block.frame, block.line)

    @staticmethod
    def _describe_block(block: OpenBlock) -> str:
        if block.kind == "request":
            return f"request {block.request} under ATOMIC_REQUESTS on database {block.alias!r}"
        return f"atomic block on database {block.alias!r}"

    def _silenced_by_noqa(self, code: str, location: Location) -> bool:
        filename = location.filename
        if filename not in self._noqa:
            text = "".join(linecache.getlines(filename))
            self._noqa[filename] = NoqaFilter(text) if text else None
            if text and file_is_excluded(text):
                self._noqa[filename] = _EVERYTHING
        noqa = self._noqa[filename]
        if noqa is None:
            return False
        return any(noqa.suppresses(code, line) for line in location.noqa_lines or (location.line,))


#: Django's transaction plumbing between an ``on_commit()`` call and its callback.
DJANGO_TRANSACTION_MODULES = ("django.db.transaction", "django.db.backends")


def _ran_at_once_by_on_commit(caller: FrameType, skip: tuple[str, ...]) -> str | None:
    """The alias of the connection whose ``on_commit()`` is running this send right away, if any."""
    frame: FrameType | None = caller
    while frame is not None and in_modules(frame, skip):
        frame = frame.f_back
    if frame is None or frame.f_code.co_name != "on_commit" or not in_modules(frame, ("django.db.backends",)):
        return None
    alias = getattr(frame.f_locals.get("self"), "alias", None)
    return alias if isinstance(alias, str) else None


class _Everything(NoqaFilter):
    """``# flake8: noqa``: the whole file is silenced."""

    def __init__(self) -> None:
        super().__init__("")

    def suppresses(self, code: str, line: int) -> bool:
        return True


_EVERYTHING = _Everything()


def active_guard() -> Guard | None:
    """The guard running in this process, if any."""
    return _active
