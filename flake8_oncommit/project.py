"""One project for one run: its index, its cache, and findings that outlive the run.

A front end (a CLI run, a flake8 run, a library call) opens the project it
checks: it decides where the cache lives (:func:`.cache.cache_directory`),
the project scan (:mod:`.scan`) completes the configuration from the
settings, and :class:`Project` owns the index of the project's modules for
the run. Nothing here is kept in the process between runs.

The result cache, as ruff and mypy keep one: a file's findings are stored
with the content hash of the text they were computed from and with what the
index was asked while checking it (which modules' summaries, and with what
digest; which names a module does not mention). A later run reuses them
only if the text is the same (its stamp, else its hash) and every one of
those answers is still the same: editing a helper module that others call
re-checks exactly the files whose answers changed. The tool's version and
the configuration are in the directory's key (:func:`.cache.cache_key`).
Only analysed files are stored: whether the pre-check lets a file through
is decided again each time (it is cheap, and depends on the project's
wrapper names).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from .cache import Store, content_hash, entry_id
from .config import Config
from .errors import ParseError
from .findings import Finding
from .index import Dep, ProjectIndex
from .modules import module_name_of
from .precheck import passes_precheck
from .scan import Mapper, ProjectScan
from .settings_scan import with_project_settings
from .summaries import ModuleSummary

if TYPE_CHECKING:
    from .engine import CheckResult

RESULT_FORMAT = 1


def _summarise(text: str, config: Config, filename: str, module: str, index: ProjectIndex) -> ModuleSummary:
    """The engine's summariser, imported when a module is first summarised (never in a warm run)."""
    from .engine import summarise_text

    return summarise_text(text, config, filename, module, index)


def text_hash(text: str) -> str:
    return content_hash(text.encode("utf-8", "surrogatepass"))


class Project:
    """The project at ``root`` under ``config``, for one run."""

    def __init__(
        self,
        root: Path,
        config: Config,
        *,
        store: Store | None = None,
        roots: Iterable[Path] = (),
        wrapper_files: Sequence[Path] | None = None,
        task_bases: bool | None = None,
        queues: Iterable[str] | None = None,
        keep_results: bool = True,
        receiver_files: Sequence[Path] | None = None,
        tree_digest: str | None = None,
    ) -> None:
        self.root = root
        self.config = config
        self.store = store
        #: False: the store only shares module summaries between the run's
        #: processes (a scratch directory of a ``--no-cache`` run)
        self.keep_results = keep_results and store is not None
        #: the scan that opened it (see :func:`open_project`), if any
        self.scan: ProjectScan | None = None
        self.index = ProjectIndex(
            root,
            config,
            _summarise,
            store=store,
            roots=roots,
            files=wrapper_files,
            task_bases=task_bases,
            queues=queues,
            receiver_files=receiver_files,
            tree_digest=tree_digest,
        )

    # -- checking ----------------------------------------------------------------

    def check(
        self,
        text: str,
        filename: str,
        *,
        honour_noqa: bool = True,
        stamp: Sequence[int] = (),
        config: Config | None = None,
    ) -> CheckResult:
        """Check ``text`` (the engine's :class:`~.engine.CheckResult`), keeping its findings for later runs.

        ``config`` is the project's, narrowed for this file (its
        ``per-file-ignores``, which depend on the file name only).
        Raises :class:`ParseError` (kept too: the same text fails the same way).
        """
        from .engine import analyse_text, excluded_by_noqa

        config = config or self.config
        if not passes_precheck(text, config, self.index):
            return _empty(text)
        if honour_noqa and excluded_by_noqa(text):
            result = _empty(text)
            self._store(filename, honour_noqa, text, stamp, result.findings, None, [])
            return result
        index = self.index
        index.begin()
        try:
            result = analyse_text(text, config, filename, honour_noqa, index)
        except ParseError as error:
            deps = index.end()
            if deps is not None:
                self._store(filename, honour_noqa, text, stamp, [], error, deps)
            raise
        except BaseException:
            index.end()
            raise
        deps = index.end()
        if deps is not None:
            self._store(filename, honour_noqa, text, stamp, result.findings, None, deps)
        return result

    def findings(
        self, text: str, filename: str, *, honour_noqa: bool = True, config: Config | None = None
    ) -> list[Finding]:
        """What :meth:`check` reports, from the cache when nothing it depends on changed."""
        config = config or self.config
        if not passes_precheck(text, config, self.index):
            return []
        cached = self.cached(filename, honour_noqa, text=text)
        if cached is not None:
            return cached
        return self.check(text, filename, honour_noqa=honour_noqa, config=config).findings

    def cached(
        self,
        filename: str,
        honour_noqa: bool,
        *,
        text: str | None = None,
        stamp: Sequence[int] = (),
        read_text: Callable[[], str | None] | None = None,
    ) -> list[Finding] | None:
        """The stored findings for ``filename``, if still right; None when it must be checked.

        The file's content is recognised by ``stamp`` (size and mtime, when
        the entry has the same), else by the hash of ``text`` (read with
        ``read_text`` when not given). Raises the stored :class:`ParseError`.
        """
        if self.store is None or not self.keep_results:
            return None
        name = self._entry_name(filename, honour_noqa)
        data = self.store.read(name)
        if data is None or data.get("format") != RESULT_FORMAT or data.get("file") != file_key(filename):
            return None
        same_stamp = bool(stamp) and data.get("stamp") == list(stamp)
        if not same_stamp:
            if text is None and read_text is not None:
                text = read_text()
            if text is None or text_hash(text) != data.get("hash"):
                return None
        deps = data.get("deps")
        if not isinstance(deps, list) or not self.index.still_valid(deps):
            return None
        items = data.get("findings")
        if not isinstance(items, list):
            return None
        try:
            findings = [_finding(item) for item in items]
        except (TypeError, ValueError):
            return None
        error = data.get("error")
        if stamp and not same_stamp:
            self.store.write(name, {**data, "stamp": list(stamp)})
        if isinstance(error, list) and len(error) == 3:
            raise ParseError(str(error[0]), int(error[1]), int(error[2]))
        return findings

    # -- wrapper names -----------------------------------------------------------

    def wrapper_names_of(self, path: Path) -> tuple[str, ...]:
        """The atomic wrappers one candidate module defines (run by worker processes)."""
        module, root = module_name_of(path)
        self.index.add_root(root)
        summary = self.index.module(module) if module else None
        if summary is None:
            return ()
        return tuple(name for name, found in summary.functions.items() if found.wrapper)

    # -- storage -------------------------------------------------------------------

    def _entry_name(self, filename: str, honour_noqa: bool) -> str:
        return f"{self.index.key}/results/{entry_id(file_key(filename), str(int(honour_noqa)))}.json"

    def _store(
        self,
        filename: str,
        honour_noqa: bool,
        text: str,
        stamp: Sequence[int],
        findings: list[Finding],
        error: ParseError | None,
        deps: list[Dep],
    ) -> None:
        if self.store is None or not self.keep_results or filename.startswith("<"):
            return
        entry: dict[str, object] = {
            "format": RESULT_FORMAT,
            "file": file_key(filename),
            "stamp": list(stamp),
            "hash": text_hash(text),
            "deps": [list(dep) for dep in deps],
            "findings": [_finding_json(finding) for finding in findings],
        }
        if error is not None:
            entry["error"] = [error.message, error.line, error.column]
        self.store.write(self._entry_name(filename, honour_noqa), entry)


def open_project(
    root: Path,
    config: Config,
    *,
    cache_dir: Path | None = None,
    mapper: Mapper | None = None,
    keep_results: bool = True,
) -> tuple[Project, list[str]]:
    """Scan ``root``, complete ``config`` from its settings, and open it for a run.

    Returns the project and notes on what the settings turned on.
    """
    store = Store(cache_dir) if cache_dir is not None else None
    scan = ProjectScan(root, store).run(mapper)
    config, notes = with_project_settings(config, root, scan)
    project = Project(
        root,
        config,
        store=store,
        roots=scan.roots,
        wrapper_files=scan.wrapper_candidates(),
        task_bases=scan.task_bases(),
        queues=scan.queues(),
        keep_results=keep_results,
        receiver_files=scan.receiver_candidates(),
        tree_digest=scan.digest(),
    )
    project.scan = scan
    return project, notes


@functools.lru_cache(maxsize=1 << 16)
def file_key(filename: str) -> str:
    """The file as the analysis sees it (``./a/b.py`` and ``a/b.py`` are one, as for ``PurePath``)."""
    stripped = filename
    while stripped.startswith("./"):
        stripped = stripped[2:]
    fast = os.sep == "/" and stripped and not (stripped is not filename and stripped.startswith("/"))
    if (
        fast
        and "//" not in stripped
        and "/./" not in stripped
        and "\\" not in stripped
        and not stripped.endswith(("/", "/."))
    ):
        return stripped
    return PurePath(filename).as_posix()


def _empty(text: str) -> CheckResult:
    from .engine import CheckResult

    return CheckResult(text)


def _finding_json(finding: Finding) -> list[object]:
    return [
        finding.line,
        finding.column,
        finding.code,
        finding.message,
        finding.end_line,
        finding.end_column,
        finding.fixable,
        finding.reason,
    ]


def _finding(item: object) -> Finding:
    if not isinstance(item, list) or len(item) != 8:
        raise ValueError("not a finding")
    line, column, code, message, end_line, end_column, fixable, reason = item
    return Finding(
        line=int(line),
        column=int(column),
        code=str(code),
        message=str(message),
        end_line=int(end_line),
        end_column=int(end_column),
        fixable=bool(fixable),
        reason=None if reason is None else str(reason),
    )


class RunRecord:
    """What the pre-check decided for each file last time, with the wrapper names it used.

    Kept in ``run.json`` beside the results: a warm run does not even read a
    file whose stamp is unchanged when the wrapper names are the same.
    """

    def __init__(self, project: Project) -> None:
        self.store = project.store
        self.keep = project.keep_results
        self.name = f"{project.index.key}/run.json"
        self.wrappers: tuple[str, ...] | None = None
        self.files: dict[str, list[int]] = {}
        data = self.store.read(self.name) if self.store is not None and self.keep else None
        if data is not None and data.get("format") == RESULT_FORMAT:
            wrappers, files = data.get("wrappers"), data.get("files")
            if isinstance(wrappers, list) and isinstance(files, dict):
                self.wrappers = tuple(str(name) for name in wrappers)
                self.files = {str(key): value for key, value in files.items() if isinstance(value, list)}

    def passed(self, filename: str, stamp: Sequence[int], wrappers: tuple[str, ...]) -> bool | None:
        """The pre-check's outcome for an unchanged file (None: unknown)."""
        if wrappers != self.wrappers:
            return None
        entry = self.files.get(file_key(filename))
        if entry is None or len(entry) != 3 or entry[:2] != list(stamp):
            return None
        return bool(entry[2])

    def save(self, wrappers: tuple[str, ...], outcomes: dict[str, tuple[Sequence[int], bool]]) -> None:
        if self.store is None or not self.keep:
            return
        files = dict(self.files) if wrappers == self.wrappers else {}
        for filename, (stamp, passed) in outcomes.items():
            files[file_key(filename)] = [*stamp, int(passed)]
        if wrappers != self.wrappers or files != self.files:
            self.store.write(self.name, {"format": RESULT_FORMAT, "wrappers": list(wrappers), "files": files})
