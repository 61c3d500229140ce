"""What the project's other modules define: wrappers, tasks, helpers, deferrers.

A file imports ``traced_atomic_transaction`` from ``core/tracing.py``,
``send_welcome`` from ``tasks.py`` and ``notify`` from ``services.py``. To
know that the first opens a transaction, that the second is a Huey task (or
a task whose delivery already waits for the commit) and that the third
enqueues, the analysis asks this index about the qualified name.

The index is lazy: a module is summarised (parsed and analysed once, by the
same engine) only when a name from it is asked about in a place that
matters: a ``with`` item or decorator, a call inside an atomic block. The
summary is kept in memory and, unless ``--no-cache``, on disk under
``<project>/.oncommit_cache/``, keyed by the file's size and mtime, the tool
version and the configuration.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from .config import Config
from .files import FileError, discover, read
from .names import module_name_of
from .source import SourceError, decode
from .summaries import SUMMARY_FORMAT, FunctionSummary, ModuleSummary
from .version import __version__

CACHE_DIR = ".oncommit_cache"
#: A def nested in a function (8 columns in): where decorators keep their wrapper.
_NESTED_DEF = re.compile(rb"\n(?:        |\t\t)+def ")
#: How far a chain of helpers is followed across modules.
MAX_CHAIN = 5


def _config_digest(config: Config) -> str:
    """A stable key for the configuration (``repr`` of a frozenset is not)."""
    fields = {
        name: sorted(value) if isinstance(value, frozenset) else value for name, value in vars(config).items()
    }
    text = json.dumps({"version": __version__, "format": SUMMARY_FORMAT, "config": fields}, sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


class ProjectIndex:
    """Summaries of the project's modules, computed on first use.

    The summaries are made by the engine's analysis, which registers itself
    as :attr:`summariser` (so this module does not import the engine).
    """

    summariser: ClassVar[Callable[[str, Config, str, str, ProjectIndex], ModuleSummary] | None] = None

    def __init__(self, root: Path, config: Config, *, use_cache: bool = True) -> None:
        self.root = Path(os.path.abspath(root))
        self.config = config
        self.roots: list[Path] = [self.root]
        if (self.root / "src").is_dir():
            self.roots.append(self.root / "src")
        self.use_cache = use_cache
        self._modules: dict[str, ModuleSummary | None] = {}
        self._wrapper_names: tuple[str, ...] | None = None
        self._digest = _config_digest(config)
        #: modules being summarised (innermost last) and what each asked about
        self._stack: list[str] = []
        self._deps: dict[str, set[str]] = {}
        self._tainted: set[str] = set()

    # -- the project's atomic wrappers, for the text pre-check -------------------

    def wrapper_names(self) -> tuple[str, ...]:
        """Names of the project's atomic wrappers (computed once, then cached).

        A file that opens its transactions with ``write_tx()`` mentions no
        ``atomic``; the pre-check needs these names to let it through. Only
        modules that could define a wrapper are summarised: they mention
        ``atomic`` and either ``yield`` or a nested ``def``.
        """
        if self._wrapper_names is None:
            names: set[str] = set()
            for path in self._files():
                try:
                    # Not ``read_bytes()``: a FIFO named ``x.py`` would block it.
                    data = read(str(path)).data
                except FileError:
                    continue
                if b"atomic" not in data or not (b"yield" in data or _NESTED_DEF.search(data)):
                    continue
                module, root = module_name_of(path)
                self.add_root(root)
                summary = self.module(module) if module else None
                if summary is not None:
                    names.update(name for name, found in summary.functions.items() if found.wrapper)
            self._wrapper_names = tuple(sorted(names))
        return self._wrapper_names

    def preset_wrapper_names(self, names: tuple[str, ...]) -> None:
        """Names found by another process (the CLI scans once, before its workers)."""
        self._wrapper_names = names

    def _files(self) -> list[Path]:
        return [Path(path) for path in discover([str(self.root)]) if path.endswith(".py")]

    # -- where modules live -------------------------------------------------------

    def add_root(self, directory: Path) -> None:
        directory = Path(os.path.abspath(directory))
        if directory not in self.roots:
            self.roots.append(directory)

    def _find(self, module: str) -> Path | None:
        parts = module.split(".")
        if not all(part.isidentifier() for part in parts):
            return None  # an unresolved relative import (``..models``) or no name at all
        relative = Path(*parts)
        for root in self.roots:
            for candidate in (root / relative.with_suffix(".py"), root / relative / "__init__.py"):
                if candidate.is_file():
                    return candidate
        return None

    # -- summaries ------------------------------------------------------------------

    def module(self, module: str) -> ModuleSummary | None:
        if self._stack:
            self._deps.setdefault(self._stack[-1], set()).add(module)
        if module in self._stack:
            # An import cycle: the modules in it see each other unfinished, so
            # what they conclude depends on where the run started: keep it
            # for this run only, never on disk.
            self._tainted.update(self._stack[self._stack.index(module) :])
            return None
        if module in self._modules:
            return self._modules[module]
        path = self._find(module)
        summary = self._load(path, module) if path is not None else None
        self._modules[module] = summary
        return summary

    def function(self, qualified: str) -> FunctionSummary | None:
        """The summary of a module-level function, following re-exports."""
        found = self._definition(qualified)
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

    def view_class(self, qualified: str) -> bool:
        """Whether ``qualified`` names a project class deriving from a view, following re-exports."""
        found = self._definition(qualified)
        return found is not None and found[1] in found[0].view_classes

    def commit_aware_task_base(self, qualified: str) -> bool:
        """Whether ``qualified`` names a project Task class whose ``apply_async`` waits for the commit."""
        found = self._definition(qualified)
        return found is not None and found[1] in found[0].commit_aware_task_bases

    def _definition(self, qualified: str) -> tuple[ModuleSummary, str, str] | None:
        """The summary of the module defining ``qualified`` (up to 3 re-exports away), its name there
        and the module's name."""
        for _ in range(4):
            if "." not in qualified:
                return None
            module, name = qualified.rsplit(".", 1)
            summary = self.module(module)
            if summary is None:
                return None
            alias = summary.aliases.get(name)
            if alias is None or alias == qualified:
                return summary, name, module
            qualified = alias
        return None

    def chain(self, qualified: str) -> list[tuple[str, str | None]] | None:
        """``[("notify()", "app/helpers.py:6"), ("send_email.delay()", "app/helpers.py:7")]``
        when calling ``qualified`` enqueues: each step and where it is."""
        return self._chain(qualified, set(), 0)

    def _chain(self, qualified: str, seen: set[str], depth: int) -> list[tuple[str, str | None]] | None:
        if qualified in seen or depth > MAX_CHAIN:
            return None
        seen.add(qualified)
        summary = self.function(qualified)
        if summary is None or summary.wrapper:
            return None
        name = (f"{qualified.rsplit('.', 1)[-1]}()", self._place(qualified, summary.line))
        if summary.enqueue is not None:
            return [name, (summary.enqueue, self._place(qualified, summary.enqueue_line))]
        for callee in summary.calls:
            rest = self._chain(callee, seen, depth + 1)
            if rest is not None:
                return [name, *rest]
        return None

    # -- computing and caching ----------------------------------------------------

    def _cache_file(self, path: Path) -> Path:
        key = hashlib.sha1(str(path).encode()).hexdigest()[:24]
        return self.root / CACHE_DIR / "index" / f"{key}.json"

    def _stamp(self, path: Path | None) -> list[object]:
        """What a cached summary depends on for one file: its size and mtime."""
        if path is None:
            return [None]
        try:
            info = path.stat()
        except OSError:
            return [None]
        return [info.st_mtime_ns, info.st_size]

    def _load(self, path: Path, module: str) -> ModuleSummary:
        stamp = [*self._stamp(path), self._digest]
        cache = self._cache_file(path)
        if self.use_cache:
            with contextlib.suppress(OSError, ValueError, TypeError, AssertionError, KeyError):
                data = json.loads(cache.read_text(encoding="utf-8"))
                # The summary also depends on the modules it asked about
                # (a wrapper built on another module's wrapper).
                fresh = data.get("stamp") == stamp and all(
                    self._stamp(self._find(dep)) == dep_stamp for dep, dep_stamp in data["deps"]
                )
                if fresh:
                    return ModuleSummary.from_json(data["summary"])
        self._stack.append(module)
        try:
            summary = self._summarise(path, module)
        finally:
            self._stack.pop()
        if self.use_cache and module not in self._tainted:
            deps = [[dep, self._stamp(self._find(dep))] for dep in sorted(self._deps.get(module, ()))]
            self._store(cache, {"stamp": stamp, "deps": deps, "summary": summary.to_json()})
        return summary

    def _store(self, cache: Path, data: dict[str, object]) -> None:
        with contextlib.suppress(OSError):
            top = self.root / CACHE_DIR
            if not top.exists():
                top.mkdir(parents=True, exist_ok=True)
                (top / ".gitignore").write_text("# created by flake8-oncommit\n*\n", encoding="utf-8")
            cache.parent.mkdir(parents=True, exist_ok=True)
            temp = cache.with_suffix(f".{os.getpid()}.tmp")
            temp.write_text(json.dumps(data), encoding="utf-8")
            os.replace(temp, cache)

    def _summarise(self, path: Path, module: str) -> ModuleSummary:
        try:
            text = decode(read(str(path)).data).text
        except (FileError, SourceError):
            return ModuleSummary()
        summariser = ProjectIndex.summariser
        assert summariser is not None, "flake8_oncommit.engine registers the summariser"
        return summariser(text, self.config, str(path), module, self)
