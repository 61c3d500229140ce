"""What the project's other modules define: wrappers, tasks, helpers, deferrers.

A file imports ``traced_atomic_transaction`` from ``core/tracing.py``,
``send_welcome`` from ``tasks.py`` and ``notify`` from ``services.py``. To
know that the first opens a transaction, that the second is a Huey task (or
a task whose delivery already waits for the commit) and that the third
enqueues, the analysis asks this index about the qualified name.

Who owns it: the front end (a CLI run, a flake8 run, a library call) makes
one index per project root per run and decides whether summaries are kept
on disk (a :class:`~.cache.Store`); the engine hands it the summariser (the
analysis, run in summary mode). Nothing here imports the analysis.

The index is lazy: a module is summarised only when a name from it is asked
about where a rule needs it (a ``with`` item, a decorator, a call inside an
atomic block, a helper's chain), and only if its text mentions that name at
all (a module that does not mention ``notify`` can neither define nor
re-export it: no parse). A summary on disk is reused when its file is
unchanged (size and mtime, else content hash) and so is every module it
asked about (their summaries' digests).

What a check asked is recorded (:meth:`ProjectIndex.begin`/``end``) so a
cached result can be checked against the project later: see
:mod:`.project`.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tokenize
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .cache import Store, cache_key, content_hash, entry_id
from .config import Config, last_parts
from .files import FileError, discover, read
from .guards import OPEN, CallShape, Guard, reach, recursion
from .modules import module_name_of
from .queues import LIBRARIES, PACKAGES
from .source import SourceError, decode
from .summaries import FunctionSummary, ModuleSummary

#: A def nested in a function (8 columns in): where decorators keep their wrapper.
_NESTED_DEF = re.compile(rb"\n(?:        |\t\t)+def ")
#: How far a chain of helpers is followed across modules.
MAX_CHAIN = 5

#: ``(text, config, filename, module name, index)`` -> the module's summary.
Summariser = Callable[[str, Config, str, str, "ProjectIndex"], ModuleSummary]
#: What an answer depended on, to check it again later:
#: ``("name", module, "name:digest")``: what the module's summary says about
#: that name (its function summary, alias, view or Task base class);
#: ``("summary", module, digest)``, the digest None when there is no such
#: module; ``("text", module, "need:name:mtime:size")``: the module's text
#: alone settled the answer (see :meth:`ProjectIndex._shortcut`), the file
#: then having that stamp (``-`` when there was no such module); or
#: ``("fact", "task-bases", None)``: no project module overrides apply_async;
#: ``("fact", "queues", "celery,own")``: how the project sends (:meth:`ProjectIndex.sends_through`); or
#: ``("receivers", signal, digest)``: the project's receivers of that signal.
Dep = tuple[str, str, Optional[str]]


#: A Celery Task class whose sends wait for the commit defines its own ``apply_async``.
_APPLY_ASYNC_DEF = re.compile(rb"\bdef\s+apply_async\b")


def could_define_task_base(data: bytes) -> bool:
    """Whether a module could define a commit-aware Task base class (one that overrides apply_async)."""
    return _APPLY_ASYNC_DEF.search(data) is not None


#: The words a module must contain for one of its functions to be a task or
#: actor (every decorator that makes one is named by one of them), or to
#: defer a callable like on_commit.
_TASK_WORDS = ("task", "actor", "job")
_DEFERRER_WORDS = ("on_commit",)
#: What a module defining a task class mentions (the libraries' task base classes).
_TASK_CLASS_WORDS = tuple(
    sorted({name.rsplit(".", 1)[-1].encode() for library in LIBRARIES for name in library.task_base_classes})
)


def _names_task_class(data: bytes) -> bool:
    return any(word in data for word in _TASK_CLASS_WORDS)


#: ``def delay(`` / ``def apply_async(``: a module that sends jobs its own way.
_OWN_SEND = re.compile(rb"\bdef\s+(?:delay|apply_async)\s*\(")


def _import_of(packages: Iterable[str]) -> re.Pattern[bytes]:
    """``import celery`` / ``from rq.job import ...`` of one of ``packages`` (the one named: group 1)."""
    names = b"|".join(re.escape(package.encode()) for package in sorted(packages))
    return re.compile(rb"^[ \t]*(?:from|import)[ \t]+(" + names + rb")\b", re.MULTILINE)


#: A module built on a queue library.
_QUEUE_IMPORT = _import_of(PACKAGES)
#: Each queue library (kind value) by how a module that uses it imports it (its packages, and
#: Django's ``django.tasks``).
_KIND_OF_IMPORT: dict[str, str] = {
    package: library.kind.value
    for library in LIBRARIES
    for package in (*library.packages, *library.frame_packages)
}
_ANY_QUEUE_IMPORT = _import_of(_KIND_OF_IMPORT)
#: How a project that sends its own way shows it (:func:`implements_own_queue`).
OWN_QUEUE = "own"
#: Every answer :func:`queues_used` can give, in a fixed order.
QUEUE_KINDS: tuple[str, ...] = (*dict.fromkeys(_KIND_OF_IMPORT.values()), OWN_QUEUE)
#: What :func:`queues_used` reads, for the scan's format: a change re-reads every file.
QUEUE_PATTERNS: bytes = _ANY_QUEUE_IMPORT.pattern + b"\n" + _OWN_SEND.pattern


def queues_used(data: bytes) -> tuple[str, ...]:
    """How a module's bytes send jobs: the queue libraries they import (kind values), and
    :data:`OWN_QUEUE` when they implement a queue of their own (one pass over the imports)."""
    found = {_KIND_OF_IMPORT[match.group(1).decode()] for match in _ANY_QUEUE_IMPORT.finditer(data)}
    if _OWN_SEND.search(data) is not None and _QUEUE_IMPORT.search(data) is None:
        found.add(OWN_QUEUE)
    return tuple(kind for kind in QUEUE_KINDS if kind in found)


def implements_own_queue(data: bytes) -> bool:
    """Whether a module's bytes define a ``delay``/``apply_async`` of their own without importing
    any queue library: the project's own queue (awx's dispatcher), whose delivery (a row, a
    ``pg_notify`` on Django's connection, ``on_commit``...) no reading of the call can tell."""
    return _OWN_SEND.search(data) is not None and _QUEUE_IMPORT.search(data) is None


def could_define_wrapper(data: bytes) -> bool:
    """Whether a module's bytes could define an atomic wrapper (for :meth:`ProjectIndex.wrapper_names`)."""
    return b"atomic" in data and (b"yield" in data or _NESTED_DEF.search(data) is not None)


_RECEIVER_BYTES = re.compile(rb"\breceiver\s*\(|\.connect\s*\(")


def could_define_receiver(data: bytes) -> bool:
    """Whether a module's bytes could register a signal receiver (for :meth:`ProjectIndex.receivers`)."""
    return _RECEIVER_BYTES.search(data) is not None and (b"receiver" in data or b"ignal" in data)


def summary_digest(summary: ModuleSummary | None) -> str | None:
    if summary is None:
        return None
    text = json.dumps(summary.to_json(), sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class _Entry:
    path: Path | None
    summary: ModuleSummary | None
    digest: str | None


_MISSING = _Entry(None, None, None)


class ProjectIndex:
    """Summaries of the project's modules, computed on first use.

    ``roots`` are directories modules are imported from besides ``root``
    and ``root/src`` (a front end that walked the project passes all of
    them, so answers do not depend on which files were checked first).
    ``files`` are the project's Python files, for :meth:`wrapper_names`
    (default: walked on first use).
    """

    def __init__(
        self,
        root: Path,
        config: Config,
        summariser: Summariser,
        *,
        store: Store | None = None,
        roots: Iterable[Path] = (),
        files: Sequence[Path] | None = None,
        task_bases: bool | None = None,
        queues: Iterable[str] | None = None,
        receiver_files: Sequence[Path] | None = None,
        tree_digest: str | None = None,
    ) -> None:
        self.root = Path(os.path.abspath(root))
        self.config = config
        self.summariser = summariser
        self.store = store
        #: where this project's entries for this configuration live in the store
        self.key = f"{entry_id(str(self.root))[:12]}/{cache_key(config)}" if store is not None else ""
        self.roots: list[Path] = [self.root]
        if (self.root / "src").is_dir():
            self.roots.append(self.root / "src")
        for directory in roots:
            self.add_root(directory)
        self._files = files
        self._receiver_files = receiver_files
        #: a digest of every project file's content (from the front end's scan; None: unknown):
        #: what a question about the whole project's text depends on
        self._tree_digest = tree_digest
        self._overrides: dict[str, tuple[tuple[str, str], ...]] = {}
        self._all_files: list[Path] | None = None
        #: signal key -> (sender key, handler) of every receiver the project registers
        self._receiver_table: dict[str, tuple[tuple[str, str], ...]] | None = None
        #: whether any project module could define a commit-aware Task base
        #: (from the front end's scan; None: unknown, ask the summaries)
        self._task_bases = None if task_bases is None else task_bases or bool(config.transactional_queues)
        #: how the project sends, from the scan (:func:`queues_used` of every module; None: unknown)
        self._queues = None if queues is None else ",".join(sorted(set(queues)))
        task_words = (*_TASK_WORDS, *last_parts(config.transactional_queues))
        deferrer_words = (*_DEFERRER_WORDS, *last_parts(config.safe_deferrers))
        self._words = {
            "task": tuple(word.encode() for word in task_words),
            "deferrer": tuple(word.encode() for word in deferrer_words),
            # An atomic wrapper opens its block with something named atomic (``could_define_wrapper``).
            "wrapper": tuple(word.encode() for word in ("atomic", *last_parts(config.atomic_wrappers))),
        }
        self._modules: dict[str, _Entry] = {}
        self._found: dict[tuple[str, int], Path | None] = {}
        self._listings: dict[Path, frozenset[str]] = {}
        self._stamps: dict[Path, list[int] | None] = {}
        self._data: dict[Path, bytes | None] = {}
        self._wrapper_names: tuple[str, ...] | None = None
        #: modules being summarised, innermost last (None: checking a stored entry)
        self._stack: list[str | None] = []
        #: what each module being summarised asked about
        self._asked: dict[str, set[tuple[str, str, str | None]]] = {}
        #: modules whose summary depends on the order of the run (an import cycle)
        self._tainted: set[str] = set()
        #: what the check in progress asked about (None: not recording)
        self._recording: set[tuple[str, str, str | None]] | None = None
        #: summaries computed (not loaded) by this index, for reports
        self.parsed = 0

    # -- where modules live -------------------------------------------------------

    def add_root(self, directory: Path) -> None:
        directory = Path(os.path.abspath(directory))
        if directory not in self.roots:
            self.roots.append(directory)

    def _find(self, module: str) -> Path | None:
        key = (module, len(self.roots))
        if key not in self._found:
            self._found[key] = self._locate(module)
        return self._found[key]

    def _locate(self, module: str) -> Path | None:
        parts = module.split(".")
        if not all(part.isidentifier() for part in parts):
            return None  # an unresolved relative import (``..models``) or no name at all
        relative = os.path.join(*parts)
        for root in self.roots:
            if not self._may_hold(root, parts[0]):
                continue
            base = os.path.join(root, relative)
            for candidate in (base + ".py", os.path.join(base, "__init__.py")):
                if os.path.isfile(candidate):
                    return Path(candidate)
        return None

    def _may_hold(self, root: Path, top: str) -> bool:
        """Whether ``root`` has an entry for the top package or module ``top`` (one listing per root)."""
        names = self._listings.get(root)
        if names is None:
            try:
                names = self._listings[root] = frozenset(os.listdir(root))
            except OSError:
                names = self._listings[root] = frozenset()
        return top in names or f"{top}.py" in names

    def _stamp(self, path: Path | None) -> list[int] | None:
        """The file's [mtime_ns, size] (looked at once per run: files do not change under it)."""
        if path is None:
            return None
        if path not in self._stamps:
            self._stamps[path] = _stamp(path)
        return self._stamps[path]

    def _read(self, path: Path) -> bytes | None:
        if path not in self._data:
            try:
                # Not ``read_bytes()``: a FIFO named ``x.py`` would block it.
                self._data[path] = read(str(path)).data
            except FileError:
                self._data[path] = None
        return self._data[path]

    def _mentions(self, path: Path, name: str) -> bool:
        """Whether the module's text mentions ``name`` (else it cannot bind it). For ``Class.method``:
        the class, and the method unless the class is defined here without bases (a method it
        inherits from another module is not written here)."""
        data = self._read(path)
        if data is None:
            return False
        if b"import *" in data:
            return True  # ``from x import *`` may bind any name
        head, dot, method = name.rpartition(".")
        if not dot:
            return _written(data, name)
        cls = head.rsplit(".", 1)[-1]
        if not _written(data, cls):
            return False
        if _written(data, method):
            return True
        return not (
            cls.isascii() and re.search(rb"\bclass\s+" + re.escape(cls.encode()) + rb"\s*(?::|\(\s*\))", data)
        )

    # -- the project's atomic wrappers, for the text pre-check -------------------

    def wrapper_names(self) -> tuple[str, ...]:
        """Names of the project's atomic wrappers (computed once, on first need).

        A file that opens its transactions with ``write_tx()`` mentions no
        ``atomic``; the pre-check needs these names to let it through. Only
        modules that could define a wrapper are summarised: they mention
        ``atomic`` and either ``yield`` or a nested ``def``.
        """
        if self._wrapper_names is None:
            names: set[str] = set()
            for summary in self._summaries_of(self._files, could_define_wrapper):
                names.update(name for name, found in summary.functions.items() if found.wrapper)
            self._wrapper_names = tuple(sorted(names))
        return self._wrapper_names

    @property
    def known_wrapper_names(self) -> tuple[str, ...] | None:
        """The wrapper names if already found (None: :meth:`wrapper_names` would scan the project)."""
        return self._wrapper_names

    def preset_wrapper_names(self, names: tuple[str, ...]) -> None:
        """Names found by the front end (the CLI scans once, then hands them to its workers)."""
        self._wrapper_names = names

    # -- the project's signal receivers ---------------------------------------------

    def receivers(self, signal: str) -> tuple[tuple[str, str], ...]:
        """``(sender key, handler)`` of every receiver the project registers for ``signal``
        (keys as in :mod:`.model_signals`), wherever it is registered.

        The table is built once, on first need: only modules whose bytes could
        register a receiver are summarised. What the check asked is recorded
        with the answer's digest: a receiver added, removed or moved anywhere
        in the project makes the cached result stale.
        """
        found = self._receivers().get(signal, ())
        self._note(("receivers", signal, _pairs_digest(found)))
        return found

    def _receivers(self) -> dict[str, tuple[tuple[str, str], ...]]:
        if self._receiver_table is None:
            table: dict[str, list[tuple[str, str]]] = {}
            for summary in self._summaries_of(self._receiver_files, could_define_receiver):
                for signal, sender, handler in summary.receivers:
                    table.setdefault(signal, []).append((sender, handler))
            self._receiver_table = {signal: tuple(dict.fromkeys(found)) for signal, found in table.items()}
        return self._receiver_table

    # -- overrides of a method in subclasses of other modules -------------------------

    def overriders(self, qualified_class: str, method: str) -> tuple[tuple[str, str], ...]:
        """``(module, class)`` of every class of another project module that derives from
        ``qualified_class`` and defines ``method`` itself (or in a base of its own module).

        Only modules whose text has ``def method`` and the class's name are summarised.
        What is asked is recorded with the answer and the whole tree's digest: a warm run
        on an unchanged tree trusts it without reading; after an edit anywhere it asks again.
        """
        key = f"{qualified_class}:{method}"
        found = self._overrides.get(key)
        if found is None:
            found = self._overrides[key] = self._find_overriders(qualified_class, method)
        self._note(("overrides", key, f"{self._tree_digest or '-'}:{_pairs_digest(found)}"))
        return found

    def _find_overriders(self, qualified_class: str, method: str) -> tuple[tuple[str, str], ...]:
        short = qualified_class.rsplit(".", 1)[-1]
        if not short.isidentifier() or not method.isidentifier():
            return ()
        named = re.compile(rb"\b" + short.encode() + rb"\b")
        defined = re.compile(rb"\bdef\s+" + method.encode() + rb"\s*\(")
        if self._all_files is None:
            self._all_files = self._walk()
        found: list[tuple[str, str]] = []
        for summary, module in self._modules_of(
            self._all_files, lambda data: defined.search(data) is not None and named.search(data) is not None
        ):
            for name, cls in summary.classes.items():
                if qualified_class in cls.bases and method in cls.methods:
                    found.append((module, name))
        return tuple(found)

    def _summaries_of(
        self, files: Sequence[Path] | None, could: Callable[[bytes], bool]
    ) -> Iterator[ModuleSummary]:
        """The summaries of the project modules whose bytes ``could`` say what a project-wide
        question needs (``files``: the front end's scan, else a walk of the project)."""
        for summary, _ in self._modules_of(files, could):
            yield summary

    def _modules_of(
        self, files: Sequence[Path] | None, could: Callable[[bytes], bool]
    ) -> Iterator[tuple[ModuleSummary, str]]:
        """:meth:`_summaries_of`, each with its module's name."""
        self._stack.append(None)  # not what the check in progress asked
        try:
            for path in files if files is not None else self._walk():
                data = self._read(Path(os.path.abspath(path)))
                if data is None or not could(data):
                    continue
                module, root = module_name_of(path)
                self.add_root(root)
                summary = self.module(module) if module else None
                if summary is not None:
                    yield summary, module
        finally:
            self._stack.pop()

    def _walk(self) -> list[Path]:
        return [Path(path) for path in discover([str(self.root)]) if path.endswith(".py")]

    # -- what a check asked ---------------------------------------------------------

    def begin(self) -> None:
        """Start recording what the index is asked (one check)."""
        self._recording = set()

    def end(self) -> list[Dep] | None:
        """What the check asked since :meth:`begin`; None if its answers depended on the run's order."""
        asked, self._recording = self._recording, None
        if asked is None:
            return []
        deps = self._resolve(asked)
        return None if deps is None else sorted(deps, key=lambda dep: (dep[0], dep[1], dep[2] or ""))

    def still_valid(self, deps: Iterable[Sequence[object]]) -> bool:
        """Whether every dependency recorded earlier still holds (summaries are recomputed if stale)."""
        self._stack.append(None)
        try:
            return all(self._holds(dep) for dep in deps)
        finally:
            self._stack.pop()

    def _note(self, dep: tuple[str, str, str | None]) -> None:
        if self._stack:
            top = self._stack[-1]
            if top is not None:
                self._asked[top].add(dep)
        elif self._recording is not None:
            self._recording.add(dep)

    def _resolve(self, asked: set[tuple[str, str, str | None]]) -> list[Dep] | None:
        """Summary dependencies with their digests; None if one of them is tainted."""
        deps: list[Dep] = []
        for kind, module, value in asked:
            if kind in ("summary", "name"):
                if module in self._tainted or module not in self._modules:
                    return None
                summary = self._modules[module].summary
                if kind == "summary":
                    value = self._modules[module].digest
                else:
                    value = f"{value}:{_name_digest(summary, value or '')}"
            deps.append((kind, module, value))
        return deps

    def _holds(self, dep: Sequence[object]) -> bool:
        if len(dep) != 3:
            return False
        kind, module, value = dep
        if not isinstance(module, str) or not (value is None or isinstance(value, str)):
            return False
        if kind == "text":
            need, name, stamp = (value or "").split(":", 2) if (value or "").count(":") >= 2 else ("", "", "")
            path = self._find(module)
            if path is None:
                return need != "module"
            if need == "module":
                return True  # still a module
            if need == "queue":
                data = self._read(path)
                return (data is not None and implements_own_queue(data)) == (name == "yes")
            if stamp == _stamp_text(self._stamp(path)):
                return True  # the same bytes give the same answer
            return bool(need) and self._shortcut(path, name, need) is not None
        if kind == "overrides":
            tree, _, answer = (value or "").partition(":")
            if self._tree_digest is not None and tree == self._tree_digest:
                return True  # not a byte of the project changed
            qualified_class, _, method = module.rpartition(":")
            return _pairs_digest(self.overriders(qualified_class, method)) == answer
        if kind == "fact":
            if module == "queues":
                return value == self._queues
            return module == "task-bases" and self._task_bases is False
        if kind == "receivers":
            return _pairs_digest(self._receivers().get(module, ())) == value
        if kind in ("summary", "name"):
            if module in self._stack:
                return False
            entry = self._entry(module, note=False)
            if module in self._tainted:
                return False
            if kind == "summary":
                return entry.digest == value
            name, _, digest = (value or "").partition(":")
            return _name_digest(entry.summary, name) == digest
        return False

    # -- summaries ------------------------------------------------------------------

    def module(self, module: str) -> ModuleSummary | None:
        return self._entry(module).summary

    def function(self, qualified: str, need: str = "") -> FunctionSummary | None:
        """The summary of a module-level function, following re-exports.

        ``need`` names the one field the caller reads (``"deferrer"``, ``"wrapper"``,
        ``"task"``): None is then also returned, without parsing, when the
        defining module's text shows that field can only be unset.
        """
        found = self._definition(qualified, need or "function")
        return found[0].functions.get(found[1]) if found is not None else None

    def _place(self, qualified: str, line: int) -> str | None:
        """``app/helpers.py:6``: where a function of the project (after re-exports) is."""
        found = self._definition(qualified)
        path = self._find(found[2]) if found is not None else None
        if path is None or not line:
            return None
        try:
            shown = os.path.relpath(path)
        except ValueError:  # another drive (Windows)
            shown = str(path)
        return f"{shown}:{line}"

    def class_place(self, qualified: str) -> tuple[str, str | None] | None:
        """``("PaymentMixin", "shop/mixins.py:3")``: a project class (after re-exports), or None."""
        found = self._definition(qualified)
        if found is None or found[1] not in found[0].classes:
            return None
        line = found[0].classes[found[1]].line
        return found[1], self._place(f"{found[2]}.{found[1]}", line)

    def method_owner(self, qualified: str) -> str | None:
        """``shop.mixins.PaymentMixin`` for ``shop.views.CheckoutView.charge``: the project class
        that defines the method a class has (itself or a base), or None."""
        found = self._definition(qualified)
        if found is None or "." not in found[1] or found[1].partition(".")[0] not in found[0].classes:
            return None
        return f"{found[2]}.{found[1].partition('.')[0]}"

    def view_class(self, qualified: str) -> bool:
        """Whether ``qualified`` names a project class deriving from a view, following re-exports."""
        found = self._definition(qualified)
        return found is not None and found[1] in found[0].view_classes

    def non_atomic_view(self, qualified: str) -> bool:
        """Whether ``qualified`` names a project class whose views run outside ATOMIC_REQUESTS."""
        found = self._definition(qualified)
        return found is not None and found[1] in found[0].non_atomic_views

    def own_queue(self, qualified: str) -> bool:
        """Whether ``qualified`` (a task decorator) is defined in a project module that
        implements a queue of its own (:func:`implements_own_queue`); read from its bytes."""
        module = qualified.rsplit(".", 1)[0] if "." in qualified else ""
        path = self._find(module) if module else None
        data = self._read(path) if path is not None else None
        answer = data is not None and implements_own_queue(data)
        if path is not None:
            said = "yes" if answer else "no"
            self._note(("text", module, f"queue:{said}:{_stamp_text(self._stamp(path))}"))
        return answer

    def sends_through(self, kind: str) -> bool:
        """Whether the project may send through the queue library ``kind``: some module imports
        it, or nothing shows how the project sends at all (no queue library imported, no queue of
        its own: a snippet, or a library used from outside the tree). True when no scan said."""
        if self._queues is None:
            return True
        self._note(("fact", "queues", self._queues))
        return not self._queues or kind in self._queues.split(",")

    def in_project(self, qualified: str) -> bool:
        """Whether ``qualified`` is a name of the project's own code: it or a prefix is one of its
        modules (a task imported from an installed package is not)."""
        parts = qualified.split(".")
        for end in range(len(parts), 0, -1):
            module = ".".join(parts[:end])
            if self._find(module) is not None:
                self._note(("text", module, "module::"))
                return True
            self._note(("text", module, "::-"))
        return False

    def commit_aware_task_base(self, qualified: str) -> bool:
        """Whether ``qualified`` names a project Task class whose ``apply_async`` waits for the commit."""
        if self._task_bases is False:
            # No module of the project overrides apply_async, and none is configured.
            self._note(("fact", "task-bases", None))
            return False
        found = self._definition(qualified)
        return found is not None and found[1] in found[0].commit_aware_task_bases

    def _definition(
        self, qualified: str, need: str = "", depth: int = 0
    ) -> tuple[ModuleSummary, str, str] | None:
        """The summary of the module defining ``qualified`` (up to 3 re-exports away), its name there
        and the module's name. A method (``module.Class.method``) is looked up along the class's
        bases in the project; None when the class neither defines nor inherits it from there."""
        for _ in range(4):
            if "." not in qualified:
                return None
            if self._find(qualified) is not None:
                # ``from shop import events`` then ``events.notify()``: a module, no function.
                self._note(("text", qualified, "module::"))
                return None
            module, name = qualified.rsplit(".", 1)
            path = self._find(module)
            if path is None and "." in module:
                # ``app.models.Incident.close_all``: a static or class method of a module's class.
                outer, cls = module.rsplit(".", 1)
                outer_path = self._find(outer)
                if outer_path is not None:
                    module, name, path = outer, f"{cls}.{name}", outer_path
            if path is None or not self._mentions(path, name):
                # Every name a module binds is written in it: nothing to parse.
                self._note(("text", module, f"mention:{name}:{_stamp_text(self._stamp(path))}"))
                return None
            if need and self._shortcut(path, name, need) is not None:
                self._note(("text", module, f"{need}:{name}:{_stamp_text(self._stamp(path))}"))
                return None
            # What is read here is what this name is: an edit elsewhere in
            # the module changes nothing for whoever asked about it.
            summary = self._entry(module, note=False).summary
            self._note(("name", module, name))
            if summary is None:
                return None
            head, dot, method = name.partition(".")
            declared = summary.classes.get(head) if dot else None
            if declared is not None:
                if method in declared.methods:
                    return summary, name, module
                # Inherited from a base in another module (looked up in order, a few levels deep).
                return self._inherited(declared.bases, method, depth)
            alias = summary.aliases.get(head)
            if alias is None and name not in summary.functions and summary.star_modules:
                # ``from .services import *`` in a package's __init__: the first that binds it.
                alias = self._star_source(summary.star_modules, head)
            if alias is None or alias == qualified or (dot and name in summary.functions):
                return summary, name, module
            qualified = f"{alias}{dot}{method}"  # re-exported (its class, for a method)
        return None

    def _inherited(
        self, bases: tuple[str, ...], method: str, depth: int
    ) -> tuple[ModuleSummary, str, str] | None:
        """Where the first of ``bases`` that has ``method`` (defined or inherited) defines it."""
        if depth >= 4:
            return None
        for base in bases:
            found = self._definition(f"{base}.{method}", "", depth + 1)
            if found is not None:
                return found
        return None

    def _star_source(self, modules: tuple[str, ...], name: str) -> str | None:
        """``pkg.services.notify`` when ``name`` comes through one of the star-imported ``modules``."""
        for module in modules:
            path = self._find(module)
            # Which one binds it depends on their texts: an edit of one is seen.
            self._note(("text", module, f"mention:{name}:{_stamp_text(self._stamp(path))}"))
            if path is not None and self._mentions(path, name):
                return f"{module}.{name}"
        return None

    def _shortcut(self, path: Path, name: str, need: str) -> str | None:
        """Why the module's text alone shows that ``name`` there answers nothing for ``need``.

        ``"mention"``: the module does not mention it. ``"function"``: it
        neither defines a function by that name nor can bind the name to
        another module's (an import, an assignment): only calls, attributes
        and a class use it. ``need``: the module defines the function itself,
        and lacks every word that the needed field requires. None: the
        summary must say.
        """
        data = self._read(path)
        if data is None or not self._mentions(path, name):
            return "mention"
        if need not in ("function", "deferrer", "task", "wrapper") or b"import *" in data:
            return None  # a star import may bind it: the summary must say
        if "." in name:
            # ``Order.objects``, ``Billing.toggle``: a method only where a def names it.
            uses = _uses(data, name.rsplit(".", 1)[-1])
            return "function" if uses is not None and "def" not in uses else None
        uses = _uses(data, name)
        if uses is None:
            return None
        # A class: calling it makes an instance; it defers nothing, wraps nothing, and it is
        # a task only when it derives from a library's task class (Dramatiq's GenericActor).
        is_class = "class" in uses and "def" not in uses
        if is_class and (need in ("deferrer", "wrapper") or (need == "task" and not _names_task_class(data))):
            return "function"
        if "other" in uses:
            return None
        if "def" not in uses:
            return "function"
        words = self._words.get(need)
        if words is not None and not any(word in data for word in words):
            return need
        return None

    def chain(self, qualified: str) -> list[tuple[str, str | None]] | None:
        """``[("notify()", "app/helpers.py:6"), ("send_email.delay()", "app/helpers.py:7")]``
        when calling ``qualified`` enqueues: each step and where it is."""
        return self._steps(qualified, _enqueue_of, MAX_CHAIN + 1, set())

    def guard(self, qualified: str) -> Guard | None:
        """The parameter of ``qualified`` that must be truthy for an enqueue reachable from it
        (:mod:`.guards`): read from the summaries on the way, as :meth:`chain` reads them."""
        return self._guard(qualified, MAX_CHAIN + 1, set(), {})

    def _guard(
        self, qualified: str, depth: int, active: set[str], done: dict[str, Guard | None]
    ) -> Guard | None:
        if qualified in done:
            return done[qualified]
        if depth <= 0 or qualified in active:
            return OPEN  # not followed: counted as on (precision first)
        summary = self.function(qualified)
        if summary is None or summary.wrapper or summary.task is not None:
            return None
        found = [frozenset(summary.enqueue_guard)] if summary.enqueue is not None else []
        active.add(qualified)
        shaped = set()
        recursive = []
        for callee, text in summary.call_guards:
            shaped.add(callee)
            if callee == qualified:
                recursive.append(CallShape.decode(text))
                continue
            reached = reach(CallShape.decode(text), self._guard(callee, depth - 1, active, done))
            if reached is not None:
                found.append(reached)
        for callee in summary.calls:
            if callee not in shaped and self._guard(callee, depth - 1, active, done) is not None:
                found.append(frozenset())
        active.discard(qualified)
        guard = recursion(found, recursive, summary.parameters, summary.off_by_default)
        done[qualified] = guard
        return guard

    def effect_chain(self, qualified: str, kind: str, depth: int) -> list[tuple[str, str | None]] | None:
        """``[("clear_cache()", "shop/cache.py:4"), ("cache.delete_many()", "shop/cache.py:6")]`` when
        calling ``qualified`` has a ``kind`` side effect within ``depth`` calls."""

        def effect_of(summary: FunctionSummary) -> tuple[str, int] | None:
            return next(((text, line) for found, text, line in summary.effects if found == kind), None)

        return self._steps(qualified, effect_of, depth, set())

    def _steps(
        self,
        qualified: str,
        end: Callable[[FunctionSummary], tuple[str, int] | None],
        depth: int,
        seen: set[str],
    ) -> list[tuple[str, str | None]] | None:
        """The calls from ``qualified`` to a function whose summary ``end`` answers (its call, its
        line), at most ``depth`` functions deep, each step with where it is."""
        if qualified in seen or depth <= 0:
            return None
        seen.add(qualified)
        summary = self.function(qualified)
        if summary is None or summary.wrapper or summary.task is not None:
            return None
        name = (f"{qualified.rsplit('.', 1)[-1]}()", self._place(qualified, summary.line))
        found = end(summary)
        if found is not None:
            return [name, (found[0], self._place(qualified, found[1]))]
        for callee in summary.calls:
            rest = self._steps(callee, end, depth - 1, seen)
            if rest is not None:
                return [name, *rest]
        return None

    # -- computing and caching ----------------------------------------------------

    def _entry(self, module: str, *, note: bool = True) -> _Entry:
        if note:
            self._note(("summary", module, None))
        if module in self._stack:
            # An import cycle: the modules in it see each other unfinished, so
            # what they conclude depends on where the run started: keep it
            # for this run only, never on disk.
            start = self._stack.index(module)
            self._tainted.update(name for name in self._stack[start:] if name is not None)
            return _MISSING
        found = self._modules.get(module)
        if found is None:
            path = self._find(module)
            found = _MISSING if path is None else self._load(path, module) or self._compute(path, module)
            self._modules[module] = found
        return found

    def _entry_name(self, path: Path, module: str) -> str:
        return f"{self.key}/summaries/{entry_id(self._relative(path), module)}.json"

    def _relative(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def _load(self, path: Path, module: str) -> _Entry | None:
        """The stored summary, if its file and everything it asked about are unchanged."""
        if self.store is None:
            return None
        name = self._entry_name(path, module)
        data = self.store.read(name)
        if data is None or data.get("path") != self._relative(path) or data.get("module") != module:
            return None
        contents: bytes | None = None
        fresh = self._stamp(path) is not None and self._stamp(path) == data.get("stamp")
        if not fresh:
            contents = self._read(path)
            if contents is None:
                return None
            if content_hash(contents) != data.get("hash") and code_hash(contents) != data.get("code"):
                return None
        deps = data.get("deps")
        if not isinstance(deps, list) or not self.still_valid(deps):
            return None
        try:
            summary_data = data["summary"]
            assert isinstance(summary_data, dict)
            summary = ModuleSummary.from_json(summary_data)
        except (KeyError, TypeError, AssertionError, ValueError):
            return None
        digest = data.get("digest")
        if not isinstance(digest, str):
            return None
        if not fresh and contents is not None:
            # The same code under a new stamp (a touch, a checkout, a comment
            # edited): the summary stands; remember the new stamp.
            self.store.write(name, {**data, "stamp": self._stamp(path), "hash": content_hash(contents)})
        return _Entry(path, summary, digest)

    def _compute(self, path: Path, module: str) -> _Entry:
        self._stack.append(module)
        self._asked[module] = set()
        try:
            summary, contents = self._summarise(path, module)
        finally:
            self._stack.pop()
        asked = self._asked.pop(module)
        self.parsed += 1
        deps = None if module in self._tainted else self._resolve(asked)
        if deps is None:
            self._tainted.add(module)
        digest = summary_digest(summary)
        if self.store is not None and deps is not None and contents is not None:
            self.store.write(
                self._entry_name(path, module),
                {
                    "path": self._relative(path),
                    "module": module,
                    "stamp": self._stamp(path),
                    "hash": content_hash(contents),
                    "code": code_hash(contents),
                    "deps": sorted(deps, key=lambda dep: (dep[0], dep[1], dep[2] or "")),
                    "digest": digest,
                    "summary": summary.to_json(),
                },
            )
        return _Entry(path, summary, digest)

    def _summarise(self, path: Path, module: str) -> tuple[ModuleSummary, bytes | None]:
        contents = self._read(path)
        if contents is None:
            return ModuleSummary(), None
        try:
            text = decode(contents).text
        except SourceError:
            return ModuleSummary(), contents
        return self.summariser(text, self.config, str(path), module, self), contents


def _written(data: bytes, word: str) -> bool:
    if word.isascii():
        return word.encode() in data
    try:
        return word in decode(data).text
    except SourceError:
        return False


def _stamp(path: Path) -> list[int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return [info.st_mtime_ns, info.st_size]


def _name_digest(summary: ModuleSummary | None, name: str) -> str:
    """What a module's summary says about one of its names (see :meth:`ProjectIndex._definition`)."""
    if summary is None:
        return "-"
    function = summary.functions.get(name)
    head = name.partition(".")[0]
    # A summary's repr is its fields' values, in a fixed order: no copy of it is made
    # (a warm run asks this once for each name every cached file depends on).
    said = (
        summary.aliases.get(head),
        repr(summary.classes.get(head)),
        repr(function),
        name in summary.view_classes,
        name in summary.non_atomic_views,
        name in summary.commit_aware_task_bases,
    )
    return hashlib.sha1(repr(said).encode()).hexdigest()[:16]


def _pairs_digest(found: Sequence[tuple[str, str]]) -> str:
    return hashlib.sha1(json.dumps(sorted(found)).encode()).hexdigest()[:16]


def _stamp_text(stamp: list[int] | None) -> str:
    return "-" if stamp is None else f"{stamp[0]}:{stamp[1]}"


def _enqueue_of(summary: FunctionSummary) -> tuple[str, int] | None:
    return (summary.enqueue, summary.enqueue_line) if summary.enqueue is not None else None


def code_hash(data: bytes) -> str | None:
    """A hash of the module's tokens without comments and blank lines (None: it does not tokenize).

    What a summary says depends on the code and on the lines it is on (OC105
    chains name ``helpers.py:12``): a module whose comments changed on their
    own lines' places keeps its summary without being parsed again; one
    whose code moved to other lines does not.
    """
    digest = hashlib.sha1()
    try:
        for token in tokenize.tokenize(io.BytesIO(data).readline):
            if token.type not in _INSIGNIFICANT:
                digest.update(
                    f"{token.type}\x00{token.start[0]}\x00{token.string}\x01".encode("utf-8", "surrogatepass")
                )
    except (tokenize.TokenError, SyntaxError, UnicodeDecodeError, ValueError):
        return None
    return digest.hexdigest()


_INSIGNIFICANT = frozenset({tokenize.COMMENT, tokenize.NL, tokenize.ENCODING})


#: What precedes a name where a statement defines it.
_DEFINED = re.compile(rb"(?:\bdef|\bclass)\s+\Z")
_ATTRIBUTE = re.compile(rb"\.\s*\Z")
_CALLED = re.compile(rb"[ \t]*\(")


def _uses(data: bytes, name: str) -> set[str] | None:
    """How a module's text uses ``name``: ``def`` (a def or class statement names it), ``call``
    (called on the same line, or an attribute), ``other`` (anything else: an import, an
    assignment, an argument...). None when that cannot be told from bytes (a non-ASCII name)."""
    if not name.isascii() or not name.isidentifier():
        return None
    found: set[str] = set()
    for match in re.finditer(rb"(?<![\w])" + re.escape(name.encode()) + rb"(?![\w])", data):
        before = data[max(0, match.start() - 40) : match.start()]
        if _DEFINED.search(before):
            found.add("def" if before.rstrip().endswith(b"def") else "class")
        elif _ATTRIBUTE.search(before) or _CALLED.match(data, match.end()):
            found.add("call")
        else:
            found.add("other")
    return found
