"""``oncommit-fix``: check or rewrite files from the command line.

Exit status: 0 nothing found; 1 findings (``--check``), files changed or
would change (``--diff``), findings left that cannot be fixed, or files that
could not be processed; 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .add_noqa import add_noqa, unused_noqa
from .cache import ENV_CACHE_DIR, Store, cache_directory
from .config import (
    ATOMIC_REQUESTS_MODES,
    KEYS,
    STYLES,
    Config,
    ConfigError,
    config_from_mapping,
    find_pyproject,
    load_pyproject,
)
from .errors import ParseError
from .exclusion import Selection
from .explain import explain
from .files import FileError, Snapshot, discover, read, write_atomic
from .findings import Finding
from .output import FORMATS, MACHINE_FORMATS, Located, render
from .precheck import passes_precheck
from .project import Project, RunRecord, file_key, open_project
from .rules import PARSE_ERROR_CODE, RULES
from .settings_scan import project_root, with_project_settings
from .source import SourceError, decode
from .summary import RunSummary
from .terminal import COLOR_CHOICES, Style
from .version import __version__

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from .engine import check_text
    from .fix import FixError, fix_text
    from .index import ProjectIndex


def _load_engine() -> None:
    """Import the parser, the analysis and the fixer: on the first file that needs them.

    A run answered from the cache never does. (Bound as this module's names,
    as if imported at the top, so that they can be replaced in tests.)
    """
    names = globals()
    if "fix_text" not in names:
        from .engine import check_text
        from .fix import FixError, fix_text

        names.setdefault("check_text", check_text)
        names.setdefault("fix_text", fix_text)
        names.setdefault("FixError", FixError)


def __getattr__(name: str) -> Any:
    if name in ("check_text", "fix_text", "FixError"):
        _load_engine()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Below this many files, worker processes cost more than they save.
PARALLEL_THRESHOLD = 32


@dataclass
class FileResult:
    """What happened to one file."""

    path: str
    #: what is left in the file on disk (after this run), positioned in it
    findings: list[Finding] = field(default_factory=list)
    fixed: int = 0
    #: the findings fixed (positions before the fix)
    fixed_findings: list[Finding] = field(default_factory=list)
    #: lines that got a noqa comment (``--add-noqa``)
    noqa_added: int = 0
    changed: bool = False
    diff: str = ""
    #: a fix that was computed but not applied (verification or write failed)
    error: str | None = None
    lines: list[str] | None = None
    #: the file's (mtime_ns, size) as read, and whether the pre-check let it
    #: through: kept for the next run (None: unknown)
    stamp: tuple[int, int] | None = None
    passed: bool | None = None


def _error_finding(message: str, line: int = 1, column: int = 0) -> Finding:
    return Finding(
        line=max(line, 1),
        column=max(column, 0),
        code=PARSE_ERROR_CODE,
        message=message,
        end_line=max(line, 1),
        end_column=max(column, 0),
        fixable=False,
    )


@dataclass(frozen=True)
class Job:
    """What to do with each file (sent to worker processes)."""

    config: Config
    #: "check", "diff" or "fix"
    mode: str = "check"
    keep_lines: bool = False
    #: the project root for the index of other modules (None: no index)
    root: str | None = None
    #: where results and summaries are cached (None: nowhere)
    cache_dir: str | None = None
    #: directories the project's modules are imported from (from the scan)
    roots: tuple[str, ...] = ()
    #: the project's files that could define an atomic wrapper (None: walk on first need)
    wrapper_files: tuple[str, ...] | None = None
    #: the project's files that could register a signal receiver (None: walk on first need)
    receiver_files: tuple[str, ...] | None = None
    #: a digest of every project file's content, from the scan (None: unknown)
    tree_digest: str | None = None
    #: the project's atomic wrappers, found once for the run (None: when first needed)
    wrappers: tuple[str, ...] | None = None
    #: ``--add-noqa``: silence what is left after fixing
    add_noqa: bool = False
    #: ``--report-unused-noqa``
    unused_noqa: bool = False
    #: whether a project module could define a commit-aware Task base (None: unknown)
    task_bases: bool | None = None
    #: how the project sends jobs (:meth:`.scan.ProjectScan.queues`; None: unknown)
    queues: tuple[str, ...] | None = None
    #: False: ``cache_dir`` is the run's scratch directory (``--no-cache``), for summaries only
    keep_results: bool = True


def open_job_project(job: Job) -> Project | None:
    """The project a worker process checks with, for this run (None: no project)."""
    if job.root is None:
        return None
    project = Project(
        Path(job.root),
        job.config,
        store=Store(Path(job.cache_dir)) if job.cache_dir is not None else None,
        roots=[Path(root) for root in job.roots],
        wrapper_files=[Path(path) for path in job.wrapper_files] if job.wrapper_files is not None else None,
        task_bases=job.task_bases,
        queues=job.queues,
        keep_results=job.keep_results,
        receiver_files=[Path(path) for path in job.receiver_files]
        if job.receiver_files is not None
        else None,
        tree_digest=job.tree_digest,
    )
    if job.wrappers is not None:
        project.index.preset_wrapper_names(job.wrappers)
    return project


#: In a worker process: the project of the run it serves (a worker lives for one run).
_worker_state: tuple[Job, Project | None] | None = None


def _worker_project(job: Job) -> Project | None:
    global _worker_state
    same_run = dataclasses.replace(job, wrappers=None, mode="check", keep_lines=False)
    if _worker_state is None or _worker_state[0] != same_run:
        _worker_state = (same_run, open_job_project(same_run))
    project = _worker_state[1]
    if project is not None and job.wrappers is not None:
        project.index.preset_wrapper_names(job.wrappers)
    return project


def _worker_process(path: str, job: Job) -> FileResult:
    return process(path, job, _worker_project(job))


def _worker_wrappers(path: str, job: Job) -> tuple[str, ...]:
    project = _worker_project(job)
    return project.wrapper_names_of(Path(path)) if project is not None else ()


def process(path: str, job: Job, project: Project | None = None) -> FileResult:
    """Check (``mode="check"``), preview (``"diff"``) or fix (``"fix"``) one file.

    ``project`` is the run's (one is opened from ``job`` when not given). A
    bug of this tool on one file is reported as that file's OC000 finding
    (the file is left as it was) and the run goes on with the others.
    """
    try:
        return _process(path, job, project if project is not None else open_job_project(job))
    except Exception as error:  # one file's failure must not end the run
        result = FileResult(path)
        result.findings = [
            _error_finding(f"internal error: {type(error).__name__}: {error} (please report it)")
        ]
        return result


def _process(path: str, job: Job, project: Project | None) -> FileResult:
    config, mode, keep_lines = job.config.for_path(path), job.mode, job.keep_lines
    result = FileResult(path)
    try:
        snapshot = read(path)
        source = decode(snapshot.data)
    except (FileError, SourceError) as error:
        result.findings = [_error_finding(f"cannot read: {error}")]
        return result
    result.stamp = (snapshot.mtime_ns, snapshot.size)
    if keep_lines:
        result.lines = source.text.splitlines()
    index = project.index if project is not None else None
    result.passed = passes_precheck(source.text, config, index)
    if not result.passed:
        if job.unused_noqa:
            _load_engine()
            result.findings = _unused_noqa(source.text, config, path, index)
        return result
    if project is not None:
        try:
            cached = project.cached(path, True, text=source.text, stamp=result.stamp)
        except ParseError as error:
            result.findings = [_error_finding(f"cannot parse: {error.message}", error.line, error.column)]
            return result
        if (
            cached is not None
            and not job.unused_noqa
            and not job.add_noqa
            and (mode == "check" or not any(f.fixable for f in cached))
        ):
            result.findings = cached
            return result
    _load_engine()
    try:
        if project is not None:
            checked = project.check(source.text, path, stamp=result.stamp, config=config)
        else:
            checked = check_text(source.text, config, filename=path)
    except ParseError as error:
        result.findings = [_error_finding(f"cannot parse: {error.message}", error.line, error.column)]
        return result
    result.findings = checked.findings
    text = source.text
    if mode != "check" and any(f.fixable for f in checked.findings):
        try:
            outcome = fix_text(source.text, config, filename=path, result=checked, index=index)
        except FixError as error:
            result.error = f"fix not applied: {error}"
        else:
            text = outcome.text
            result.fixed_findings = outcome.fixed
            # Write mode: what the re-check of the rewrite finds (its lines; a
            # fix may also have resolved an OC105 of this file). --diff: the
            # file on disk is unchanged, so its own positions.
            result.findings = (
                outcome.remaining if mode == "fix" else _not_fixed(checked.findings, outcome.fixed)
            )
    if job.add_noqa and mode != "check":
        left = [f for f in result.findings if f.code != PARSE_ERROR_CODE]
        marked, result.noqa_added = add_noqa(text, left)
        if result.noqa_added:
            try:
                after = check_text(marked, config, filename=path, index=index)
            except ParseError as error:  # pragma: no cover - a comment cannot break the syntax
                result.error = f"noqa not added: the result does not parse: {error.message}"
                result.noqa_added = 0
            else:
                text = marked
                if mode == "fix":
                    result.findings = after.findings
    if job.unused_noqa:
        # About the file as it is on disk after this run (with --diff, as it was).
        on_disk = text if mode == "fix" else source.text
        result.findings = sorted([*result.findings, *_unused_noqa(on_disk, config, path, index)])
    if text == source.text:
        return result
    result.changed = True
    result.fixed = len(result.fixed_findings)
    if mode == "diff":
        result.diff = _unified_diff(path, source.text, text)
        return result
    try:
        _write(path, source.encode(text), snapshot)
    except FileError as error:
        result.findings = checked.findings
        result.fixed_findings = []
        result.fixed = result.noqa_added = 0
        result.changed = False
        result.error = f"fix not applied: {error}"
        return result
    if keep_lines:
        result.lines = text.splitlines()  # --show-source quotes the file as written
    return result


def _not_fixed(findings: list[Finding], fixed: list[Finding]) -> list[Finding]:
    done = set(fixed)
    return [finding for finding in findings if finding not in done]


def _unused_noqa(text: str, config: Config, path: str, index: ProjectIndex | None) -> list[Finding]:
    """``# noqa: OCnnn`` comments that silence nothing (every finding counted, noqa or not)."""
    if "noqa" not in text.lower():
        return []
    try:
        every = check_text(text, config, filename=path, honour_noqa=False, index=index).findings
    except ParseError:
        return []

    def selected(code: str) -> bool:
        # A prefix (``OC1``) only when this run checks every rule it covers.
        covered = [rule for rule in RULES if rule.startswith(code)]
        return bool(covered) and all(config.selects(rule) for rule in covered)

    return unused_noqa(text, every, selected)


def _write(path: str, data: bytes, snapshot: Snapshot) -> None:
    write_atomic(path, data, snapshot)


def _unified_diff(path: str, before: str, after: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"{path}",
        tofile=f"{path}",
    )
    return "".join(
        line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n" for line in lines
    )


# --------------------------------------------------------------------------
# Arguments and configuration


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="oncommit-fix",
        description=(
            "Find task enqueues inside transaction.atomic that are not deferred with "
            "transaction.on_commit, and rewrite them safely."
        ),
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (walked recursively)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="report findings, write nothing; exit 1 if any")
    mode.add_argument(
        "--diff", action="store_true", help="print the rewrite as a unified diff, write nothing"
    )
    parser.add_argument(
        "--add-noqa",
        action="store_true",
        help="after fixing, add '# noqa: CODE' to every finding left (for adopting on a large codebase)",
    )
    parser.add_argument(
        "--report-unused-noqa",
        action="store_true",
        help="report '# noqa: OCnnn' comments that silence nothing (as OC100)",
    )
    parser.add_argument("--explain", metavar="CODE", help="print the documentation of a rule and exit")
    parser.add_argument("--style", choices=STYLES, help="fix style (default: partial)")
    parser.add_argument(
        "--select", metavar="CODES", help="comma-separated codes or prefixes to report (replaces the file's)"
    )
    parser.add_argument("--ignore", metavar="CODES", help="comma-separated codes or prefixes not to report")
    for key in (
        "enqueue-functions",
        "enqueue-methods",
        "atomic-wrappers",
        "safe-deferrers",
        "transactional-queues",
        "read-only-databases",
        "side-effects",
    ):
        parser.add_argument(f"--{key}", metavar="NAMES", help=f"{KEYS[key][2]} (comma-separated)")
    parser.add_argument(
        "--atomic-requests",
        choices=ATOMIC_REQUESTS_MODES,
        help="report enqueues in views (OC106): auto (default: when the settings turn ATOMIC_REQUESTS on), "
        "true or false; alone, true",
    )
    for key in ("exclude", "extend-exclude"):
        parser.add_argument(f"--{key}", metavar="PATTERNS", help=f"{KEYS[key][2]} (comma-separated)")
    parser.add_argument("--per-file-ignores", metavar="PATTERN:CODES", help=KEYS["per-file-ignores"][2])
    parser.add_argument(
        "--respect-gitignore",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="skip files git ignores when walking a directory (default: on)",
    )
    parser.add_argument(
        "--force-exclude",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="apply the exclusions to files named on the command line too (pre-commit)",
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="report format (default: text)")
    parser.add_argument("--output", metavar="FILE", help="write the report to FILE instead of stdout")
    parser.add_argument("--show-source", action="store_true", help="show the source line under each finding")
    parser.add_argument("--statistics", action="store_true", help="print how many findings of each code")
    parser.add_argument(
        "--color",
        choices=COLOR_CHOICES,
        default="auto",
        help="colour text output: auto (a terminal, unless NO_COLOR; FORCE_COLOR forces it), always, never",
    )
    parser.add_argument(
        "--jobs", "-j", type=int, default=0, metavar="N", help="worker processes (default: CPUs)"
    )
    parser.add_argument("--config", metavar="FILE", help="pyproject.toml to read (default: nearest one)")
    parser.add_argument("--isolated", action="store_true", help="ignore configuration files")
    parser.add_argument(
        "--cache-dir",
        metavar="DIR",
        help=f"where to cache results and module summaries (default: .oncommit_cache at the project root; "
        f"also ${ENV_CACHE_DIR})",
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="neither read nor write the cache of results and module summaries",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="do not print the summary line")
    parser.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="also print what was found in the settings (printed anyway on a terminal)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _common_start(paths: list[str]) -> Path:
    """Where to look for the project (and its pyproject.toml): the paths' common directory."""
    start = Path(os.path.commonpath([os.path.abspath(p) for p in paths])) if paths else Path.cwd()
    return start if start.is_dir() else start.parent


#: Flags whose value is a comma-separated list (the file takes a TOML list).
_SELECTION_KEYS = ("select", "ignore")


def resolve_config(args: argparse.Namespace, *, settings: bool = True) -> tuple[Config, list[str]]:
    """The file's configuration, the flags on top; with ``settings``, completed from the project's
    settings modules too (``oncommit-fix`` itself does that when it opens the project).

    Rule selection follows ruff: ``--select`` replaces the file's selection
    (its ``ignore`` too, so ``--select OC105`` reports OC105 whatever the file
    ignores); ``--ignore`` alone adds to the file's. Returns the notes on
    what the settings said.
    """
    config = Config()
    if not args.isolated:
        if args.config:
            path = Path(args.config)
            if not path.is_file():
                raise ConfigError(f"--config: no such file: {args.config}")
            config = load_pyproject(path, config)
        else:
            found = find_pyproject(_common_start(args.paths))
            if found is not None:
                config = load_pyproject(found, config)
    flags = {
        key: getattr(args, KEYS[key][0])
        for key in KEYS
        if key not in _SELECTION_KEYS and getattr(args, KEYS[key][0], None) is not None
    }
    config = config_from_mapping(flags, "command line", config)
    if args.select is not None:
        selected = config_from_mapping({"select": args.select}, "command line")
        config = dataclasses.replace(config, select=selected.select, ignore=frozenset())
    if args.ignore is not None:
        ignored = config_from_mapping({"ignore": args.ignore}, "command line")
        config = dataclasses.replace(config, ignore=config.ignore | ignored.ignore)
    if not settings:
        return config, []
    return with_project_settings(config, project_root(_common_start(args.paths)))


# --------------------------------------------------------------------------
# Running


_T = TypeVar("_T")
_R = TypeVar("_R")


class _Workers:
    """The run's worker processes, started on first need: a warm run starts none.

    Workers ignore Ctrl-C (the parent decides) and exit if the parent dies.
    """

    def __init__(self, jobs: int) -> None:
        self.size = jobs if jobs > 0 else (os.cpu_count() or 1)
        self.pool: ProcessPoolExecutor | None = None
        #: where the workers of a run without a cache share module summaries
        self.scratch: str | None = None

    def scratch_directory(self) -> Path:
        if self.scratch is None:
            import tempfile

            self.scratch = tempfile.mkdtemp(prefix="oncommit-run-")
        return Path(self.scratch)

    def finish(self) -> None:
        """The run is over: no more workers, no scratch directory."""
        self.close()
        if self.scratch is not None:
            import shutil

            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None

    def wanted(self, count: int) -> bool:
        return self.size > 1 and count >= PARALLEL_THRESHOLD

    def start(self) -> ProcessPoolExecutor:
        if self.pool is None:
            from concurrent.futures import ProcessPoolExecutor  # not needed by a warm run

            self.pool = ProcessPoolExecutor(
                max_workers=self.size, initializer=_worker_setup, initargs=(os.getpid(),)
            )
        return self.pool

    def map(self, function: Callable[[_T], _R], items: list[_T]) -> Iterable[_R]:
        """``map``, in the workers when there are enough items (else here, or if a worker crashed)."""
        if not self.wanted(len(items)):
            return map(function, items)
        from concurrent.futures.process import BrokenProcessPool

        try:
            return list(self.start().map(function, items, chunksize=max(1, len(items) // (self.size * 4))))
        except BrokenProcessPool:
            self.close(broken=True)
            return map(function, items)

    def close(self, *, broken: bool = False) -> None:
        """On Ctrl-C: drop what has not started; files being written finish
        their atomic replace (workers ignore SIGINT), none is left half done."""
        if self.pool is not None:
            self.pool.shutdown(wait=not broken, cancel_futures=True)
            self.pool = None


def _run_all(paths: list[str], job: Job, project: Project | None, workers: _Workers) -> Iterator[FileResult]:
    """Every file's result, in order: from the cache when nothing it depends on changed.

    A few files (what pre-commit passes) are read and pre-checked here, and
    answered from the result cache; the project's wrapper names are looked
    up only if a file needs them. A whole tree uses the pre-check outcomes
    of the last run too (``run.json``): unchanged files are not even read.
    """
    if project is None or len(paths) < PARALLEL_THRESHOLD:
        yield from _compute(paths, job, project, workers)
        return
    record = RunRecord(project)
    scan = project.scan
    wrappers = record.wrappers if scan is not None and not scan.changed else None
    if wrappers is None:
        wrappers = _wrapper_names(project, job, workers)
    project.index.preset_wrapper_names(wrappers)
    job = dataclasses.replace(job, wrappers=wrappers)
    known: dict[str, FileResult] = {}
    if project.keep_results and not job.unused_noqa and not job.add_noqa:
        stamps = _scanned_stamps(paths, project)
        for path in paths:
            found = _cached(path, job, project, record, stamps.get(path))
            if found is not None:
                known[path] = found
    computed = _compute([path for path in paths if path not in known], job, project, workers)
    outcomes: dict[str, tuple[Sequence[int], bool]] = {}
    for path in paths:
        result = known.get(path) or next(computed)
        if result.stamp is not None and result.passed is not None:
            outcomes[path] = (result.stamp, result.passed)
        yield result
    record.save(wrappers, outcomes)


def _wrapper_names(project: Project, job: Job, workers: _Workers) -> tuple[str, ...]:
    """The project's atomic wrappers: in the workers on a cold run, else in this process."""
    scan = project.scan
    candidates = [str(path) for path in scan.wrapper_candidates()] if scan is not None else []
    if scan is None or not workers.wanted(scan.read) or len(candidates) < 2:
        return project.index.wrapper_names()
    from concurrent.futures.process import BrokenProcessPool

    pool = workers.start()
    names: set[str] = set()
    try:
        for found in pool.map(_worker_wrappers, candidates, [job] * len(candidates)):
            names.update(found)
    except BrokenProcessPool:
        workers.close(broken=True)
        return project.index.wrapper_names()
    return tuple(sorted(names))


def _scanned_stamps(paths: list[str], project: Project) -> dict[str, tuple[int, int]]:
    """The stamps the project scan took a moment ago, for the files that are the project's."""
    scan = project.scan
    if scan is None:
        return {}
    root = str(scan.root)
    here = os.getcwd() == root
    stamps = {}
    for path in paths:
        if os.path.isabs(path):
            relative = path[len(root) + 1 :] if path.startswith(root + os.sep) else ""
        else:
            relative = file_key(path) if here else ""
        row = scan.facts.get(relative) if relative else None
        if row is not None:
            stamps[path] = (row[0], row[1])
    return stamps


def _cached(
    path: str, job: Job, project: Project, record: RunRecord, stamp: tuple[int, int] | None
) -> FileResult | None:
    """The file's result from the last run, if nothing it depends on changed (None: check it)."""
    if stamp is None:
        try:
            info = os.stat(path)
        except OSError:
            return None
        stamp = (info.st_mtime_ns, info.st_size)
    assert job.wrappers is not None
    passed = record.passed(path, stamp, job.wrappers)
    if passed is None:
        return None
    if not passed:
        return FileResult(path, stamp=stamp, passed=False)
    try:
        findings = project.cached(path, True, stamp=stamp, read_text=lambda: _text_of(path))
    except ParseError as error:
        findings = [_error_finding(f"cannot parse: {error.message}", error.line, error.column)]
    if findings is None or (job.mode != "check" and any(f.fixable for f in findings)):
        return None
    result = FileResult(path, findings, stamp=stamp, passed=True)
    if job.keep_lines and findings:
        result.lines = (_text_of(path) or "").splitlines()
    return result


def _text_of(path: str) -> str | None:
    try:
        return decode(read(path).data).text
    except (FileError, SourceError):
        return None


def _compute(paths: list[str], job: Job, project: Project | None, workers: _Workers) -> Iterator[FileResult]:
    if not workers.wanted(len(paths)):
        for path in paths:
            yield process(path, job, project)
        return
    from concurrent.futures.process import BrokenProcessPool

    pool = workers.start()
    done = 0
    try:
        chunk = max(1, min(16, len(paths) // (workers.size * 8)))
        for result in pool.map(_worker_process, paths, [job] * len(paths), chunksize=chunk):
            done += 1
            yield result
    except BrokenProcessPool:
        # A worker died (a crash in native code, or killed): isolate the
        # files that were not finished, one process each, so one bad file
        # is reported instead of taking the run down.
        workers.close(broken=True)
        yield from _isolated(paths[done:], job)


def _isolated(paths: list[str], job: Job) -> Iterable[FileResult]:
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    for path in paths:
        with ProcessPoolExecutor(max_workers=1, initializer=_worker_setup, initargs=(os.getpid(),)) as single:
            try:
                yield single.submit(_worker_process, path, job).result()
            except BrokenProcessPool:
                yield FileResult(path, [_error_finding("cannot parse: the parser crashed on this file")])


def _worker_setup(parent: int) -> None:
    """Workers ignore Ctrl-C (the parent decides) and exit if the parent dies."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="oncommit-parent-watch", daemon=True).start()


class _Progress:
    """``checked 120/4338 files`` on stderr, only when it is a terminal."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.enabled = total > 50 and sys.stderr.isatty()
        self.done = 0

    def step(self) -> None:
        self.done += 1
        if self.enabled and (self.done % 25 == 0 or self.done == self.total):
            sys.stderr.write(f"\roncommit-fix: {self.done}/{self.total} files")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 40 + "\r")


def _normalize_argv(argv: Sequence[str]) -> list[str]:
    """A bare ``--atomic-requests`` means true, even when a path follows it."""
    result = list(argv)
    for index, token in enumerate(result):
        following = result[index + 1] if index + 1 < len(result) else None
        if token == "--atomic-requests" and following not in ATOMIC_REQUESTS_MODES:
            result[index] = "--atomic-requests=true"
    return result


def _in_pre_commit() -> bool:
    """pre-commit runs hooks once per batch of files, with ``PRE_COMMIT=1`` set."""
    return os.environ.get("PRE_COMMIT") == "1"


def _open(
    args: argparse.Namespace, config: Config, mode: str, files: list[str], workers: _Workers
) -> tuple[Project | None, Job]:
    """The project the files belong to, opened for this run: its cache, scan and settings."""
    if not files:
        return None, Job(
            config, mode, args.show_source, add_noqa=args.add_noqa, unused_noqa=args.report_unused_noqa
        )
    root = project_root(_common_start(args.paths))
    cache_dir = cache_directory(root, flag=args.cache_dir, no_cache=args.no_cache, config=config)
    keep_results = cache_dir is not None
    if cache_dir is None and workers.wanted(len(files)):
        # Without a cache, the workers still share what they learn about the
        # project's modules during the run (deleted at its end).
        cache_dir = workers.scratch_directory()
    project, notes = open_project(
        root, config, cache_dir=cache_dir, mapper=workers.map, keep_results=keep_results
    )
    _print_notes(args, notes)
    job = Job(
        project.config,
        mode,
        args.show_source,
        str(root),
        cache_dir=str(cache_dir) if cache_dir is not None else None,
        roots=tuple(str(path) for path in project.index.roots),
        wrapper_files=tuple(str(path) for path in project.scan.wrapper_candidates())
        if project.scan
        else None,
        receiver_files=tuple(str(path) for path in project.scan.receiver_candidates())
        if project.scan
        else None,
        task_bases=project.scan.task_bases() if project.scan else None,
        queues=project.scan.queues() if project.scan else None,
        tree_digest=project.scan.digest() if project.scan else None,
        keep_results=keep_results,
        add_noqa=args.add_noqa,
        unused_noqa=args.report_unused_noqa,
    )
    return project, job


def _print_notes(args: argparse.Namespace, notes: list[str]) -> None:
    """What the settings said is worth a line where a person reads it; under
    pre-commit it would repeat once per batch (OC106 messages name it anyway)."""
    if not args.quiet and (args.verbose or (sys.stderr.isatty() and not _in_pre_commit())):
        for note in notes:
            print(f"oncommit-fix: {note}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # before or after the files (reading the settings, walking)
        print("oncommit-fix: interrupted", file=sys.stderr)
        return 130


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(_normalize_argv(sys.argv[1:] if argv is None else argv))
    if args.explain is not None:
        return _explain(args.explain)
    if not args.paths:
        parser.print_usage(sys.stderr)
        print("oncommit-fix: error: no paths given", file=sys.stderr)
        return 2
    if args.jobs < 0:
        print("oncommit-fix: error: --jobs must be 0 (auto) or more", file=sys.stderr)
        return 2
    if args.add_noqa and args.check:
        print("oncommit-fix: error: --add-noqa writes files; it cannot go with --check", file=sys.stderr)
        return 2
    try:
        config, _ = resolve_config(args, settings=False)
    except ConfigError as error:
        print(f"oncommit-fix: configuration error: {error}", file=sys.stderr)
        return 2
    err_style = Style.for_stream(sys.stderr, args.color)
    batch = _in_pre_commit()
    missing = [p for p in args.paths if not os.path.lexists(p)]
    for path in missing:
        print(f"oncommit-fix: error: {path}: no such file or directory", file=sys.stderr)
    mode = "check" if args.check else "diff" if args.diff else "fix"
    present = [p for p in args.paths if p not in missing]
    files = list(discover(present, Selection(config)))
    if not files and present:
        print(
            f"oncommit-fix: warning: no Python files found in {', '.join(present)} "
            "(after exclusions: exclude, extend-exclude, .gitignore)",
            file=sys.stderr,
        )
    progress = _Progress(len(files))
    located: list[Located] = []
    sources: dict[str, list[str]] = {}
    summary = RunSummary(mode, files=len(files))
    diffs: list[str] = []
    workers = _Workers(args.jobs)
    try:
        project, job = _open(args, config, mode, files, workers)
        for result in _run_all(files, job, project, workers):
            progress.step()
            located.extend(_gather(result, summary, sources, diffs))
    except KeyboardInterrupt:
        workers.finish()
        progress.close()
        print("oncommit-fix: interrupted", file=sys.stderr)
        return 130
    finally:
        workers.finish()
    progress.close()
    if not _report(args, mode, located, sources, diffs):
        return 2
    if not args.quiet:
        for line in summary.changed_lines(err_style):
            print(line, file=sys.stderr)
        text = summary.line(batch=batch, style=err_style)
        if text is not None:
            print(f"oncommit-fix: {text}", file=sys.stderr)
    if args.statistics:
        stream = sys.stdout if args.format == "text" or args.output else sys.stderr
        for line in summary.statistics():
            print(line, file=stream)
    if missing:
        return 2
    left = any(not item.fixed for item in located)
    return 1 if (left or summary.changed or summary.failed) else 0


def _gather(
    result: FileResult, summary: RunSummary, sources: dict[str, list[str]], diffs: list[str]
) -> list[Located]:
    """One file's outcome into the run's counts; its findings, fixed ones marked, in line order."""
    found = [Located(result.path, finding, fixed=True) for finding in result.fixed_findings]
    found += [Located(result.path, finding) for finding in result.findings]
    found.sort(key=lambda item: (item.finding.line, item.finding.column))
    summary.add(found)
    if result.lines is not None:
        sources[result.path] = result.lines
    if result.error:
        summary.failed += 1
        print(f"{result.path}: {result.error}", file=sys.stderr)
    if result.changed:
        summary.changed.append((result.path, result.fixed, result.noqa_added))
        if result.noqa_added:
            summary.noqa_added += result.noqa_added
            summary.noqa_files += 1
        if result.diff:
            diffs.append(result.diff)
    return found


def _report(
    args: argparse.Namespace,
    mode: str,
    located: list[Located],
    sources: dict[str, list[str]],
    diffs: list[str],
) -> bool:
    """The report and the diffs where they belong; False if the report file cannot be written."""
    out_style = Style.for_stream(sys.stdout, args.color) if not args.output else Style()
    report = render(args.format, located, sources if args.show_source else None, mode=mode, style=out_style)
    if diffs:
        # stdout carries a machine-readable report alone; the diff then goes to stderr.
        to_stderr = args.format in MACHINE_FORMATS and not args.output
        (sys.stderr if to_stderr else sys.stdout).write("".join(diffs))
    if args.output:
        try:
            Path(args.output).write_text(report, encoding="utf-8")
        except OSError as error:
            print(
                f"oncommit-fix: error: cannot write {args.output}: {error.strerror or error}", file=sys.stderr
            )
            return False
    elif report:
        sys.stdout.write(report)
    return True


def _explain(code: str) -> int:
    text = explain(code)
    if text is None:
        known = ", ".join([*RULES, "OC000", "OC100"])
        print(f"oncommit-fix: error: unknown code {code!r} (known: {known})", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
