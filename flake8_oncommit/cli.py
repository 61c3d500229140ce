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
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

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
from .engine import ParseError, check_text
from .files import FileError, Snapshot, discover, read, write_atomic
from .findings import Finding
from .fix import FixError, fix_text
from .index import ProjectIndex
from .output import FORMATS, Located, render
from .rules import PARSE_ERROR_CODE
from .settings_scan import project_root, with_project_settings
from .source import SourceError, decode
from .version import __version__

#: Below this many files, worker processes cost more than they save.
PARALLEL_THRESHOLD = 32


@dataclass
class FileResult:
    """What happened to one file."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    fixed: int = 0
    changed: bool = False
    diff: str = ""
    #: a fix that was computed but not applied (verification or write failed)
    error: str | None = None
    lines: list[str] | None = None


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
    use_cache: bool = True
    #: the project's atomic wrappers, found once by the main process
    wrappers: tuple[str, ...] | None = None


_INDEXES: dict[tuple[str, Config, bool], ProjectIndex] = {}


def _index(job: Job) -> ProjectIndex | None:
    """One project index per process and project, reused for every file."""
    if job.root is None:
        return None
    key = (job.root, job.config, job.use_cache)
    index = _INDEXES.get(key)
    if index is None:
        index = _INDEXES[key] = ProjectIndex(Path(job.root), job.config, use_cache=job.use_cache)
        if job.wrappers is not None:
            index.preset_wrapper_names(job.wrappers)
    return index


def process(path: str, job: Job) -> FileResult:
    """Check (``mode="check"``), preview (``"diff"``) or fix (``"fix"``) one file.

    A bug of this tool on one file is reported as that file's OC000 finding
    (the file is left as it was) and the run goes on with the others.
    """
    try:
        return _process(path, job)
    except Exception as error:  # one file's failure must not end the run
        result = FileResult(path)
        result.findings = [
            _error_finding(f"internal error: {type(error).__name__}: {error} (please report it)")
        ]
        return result


def _process(path: str, job: Job) -> FileResult:
    config, mode, keep_lines = job.config, job.mode, job.keep_lines
    index = _index(job)
    result = FileResult(path)
    try:
        snapshot = read(path)
        source = decode(snapshot.data)
    except (FileError, SourceError) as error:
        result.findings = [_error_finding(f"cannot read: {error}")]
        return result
    if keep_lines:
        result.lines = source.text.splitlines()
    try:
        checked = check_text(source.text, config, filename=path, index=index)
    except ParseError as error:
        result.findings = [_error_finding(f"cannot parse: {error.message}", error.line, error.column)]
        return result
    if mode == "check" or not any(f.fixable for f in checked.findings):
        result.findings = checked.findings
        return result
    try:
        outcome = fix_text(source.text, config, filename=path, result=checked, index=index)
    except FixError as error:
        result.findings = checked.findings
        result.error = f"fix not applied: {error}"
        return result
    result.findings = outcome.remaining
    if not outcome.changed:
        return result
    if mode == "diff":
        result.diff = _unified_diff(path, source.text, outcome.text)
        result.changed = True
        result.fixed = len(outcome.fixed)
        return result
    try:
        _write(path, source.encode(outcome.text), snapshot)
    except FileError as error:
        result.findings = checked.findings
        result.error = f"fix not applied: {error}"
        return result
    result.changed = True
    result.fixed = len(outcome.fixed)
    return result


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
    parser.add_argument("--style", choices=STYLES, help="fix style (default: partial)")
    parser.add_argument("--select", metavar="CODES", help="comma-separated codes or prefixes to report")
    parser.add_argument("--ignore", metavar="CODES", help="comma-separated codes or prefixes not to report")
    for key in (
        "enqueue-functions",
        "enqueue-methods",
        "atomic-wrappers",
        "safe-deferrers",
        "transactional-queues",
        "read-only-databases",
    ):
        parser.add_argument(f"--{key}", metavar="NAMES", help=f"{KEYS[key][2]} (comma-separated)")
    parser.add_argument(
        "--atomic-requests",
        choices=ATOMIC_REQUESTS_MODES,
        help="report enqueues in views (OC106): true, false or auto (find ATOMIC_REQUESTS in settings)",
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="report format (default: text)")
    parser.add_argument("--output", metavar="FILE", help="write the report to FILE instead of stdout")
    parser.add_argument("--show-source", action="store_true", help="show the source line under each finding")
    parser.add_argument(
        "--jobs", "-j", type=int, default=0, metavar="N", help="worker processes (default: CPUs)"
    )
    parser.add_argument("--config", metavar="FILE", help="pyproject.toml to read (default: nearest one)")
    parser.add_argument("--isolated", action="store_true", help="ignore configuration files")
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="neither read nor write the module summaries in .oncommit_cache/",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="do not print the summary line")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _common_start(paths: list[str]) -> Path:
    """Where to look for the project (and its pyproject.toml): the paths' common directory."""
    start = Path(os.path.commonpath([os.path.abspath(p) for p in paths])) if paths else Path.cwd()
    return start if start.is_dir() else start.parent


def resolve_config(args: argparse.Namespace) -> Config:
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
        key: getattr(args, KEYS[key][0]) for key in KEYS if getattr(args, KEYS[key][0], None) is not None
    }
    config = config_from_mapping(flags, "command line", config)
    config, notes = with_project_settings(config, project_root(_common_start(args.paths)))
    if not args.quiet:
        for note in notes:
            print(f"oncommit-fix: {note}", file=sys.stderr)
    return config


# --------------------------------------------------------------------------
# Running


def _run_all(paths: list[str], job: Job, jobs: int) -> Iterable[FileResult]:
    workers = jobs if jobs > 0 else (os.cpu_count() or 1)
    if workers <= 1 or len(paths) < PARALLEL_THRESHOLD:
        for path in paths:
            yield process(path, job)
        return
    done = 0
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_worker_setup, initargs=(os.getpid(),))
    try:
        chunk = max(1, min(16, len(paths) // (workers * 8)))
        for result in pool.map(process, paths, [job] * len(paths), chunksize=chunk):
            done += 1
            yield result
    except BrokenProcessPool:
        # A worker died (a crash in native code, or killed): isolate the
        # files that were not finished, one process each, so one bad file
        # is reported instead of taking the run down.
        pool.shutdown(wait=False, cancel_futures=True)
        yield from _isolated(paths[done:], job)
    finally:
        # On Ctrl-C: drop what has not started; files being written finish
        # their atomic replace (workers ignore SIGINT), none is left half done.
        pool.shutdown(wait=True, cancel_futures=True)


def _isolated(paths: list[str], job: Job) -> Iterable[FileResult]:
    for path in paths:
        with ProcessPoolExecutor(max_workers=1, initializer=_worker_setup, initargs=(os.getpid(),)) as single:
            try:
                yield single.submit(process, path, job).result()
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_normalize_argv(sys.argv[1:] if argv is None else argv))
    if not args.paths:
        parser.print_usage(sys.stderr)
        print("oncommit-fix: error: no paths given", file=sys.stderr)
        return 2
    if args.jobs < 0:
        print("oncommit-fix: error: --jobs must be 0 (auto) or more", file=sys.stderr)
        return 2
    try:
        config = resolve_config(args)
    except ConfigError as error:
        print(f"oncommit-fix: configuration error: {error}", file=sys.stderr)
        return 2
    missing = [p for p in args.paths if not os.path.lexists(p)]
    for path in missing:
        print(f"oncommit-fix: error: {path}: no such file or directory", file=sys.stderr)
    mode = "check" if args.check else "diff" if args.diff else "fix"
    files = list(discover([p for p in args.paths if p not in missing]))
    progress = _Progress(len(files))
    located: list[Located] = []
    sources: dict[str, list[str]] = {}
    changed = fixed = errors = 0
    diffs: list[str] = []
    try:
        root = str(project_root(_common_start(args.paths))) if files else None
        job = Job(config, mode, args.show_source, root, use_cache=not args.no_cache)
        index = _index(job)
        if index is not None:
            # Scanned here, once, rather than by every worker.
            job = dataclasses.replace(job, wrappers=index.wrapper_names())
        for result in _run_all(files, job, args.jobs):
            progress.step()
            located.extend(Located(result.path, finding) for finding in result.findings)
            if result.lines is not None:
                sources[result.path] = result.lines
            if result.error:
                errors += 1
                print(f"{result.path}: {result.error}", file=sys.stderr)
            if result.changed:
                changed += 1
                fixed += result.fixed
                if result.diff:
                    diffs.append(result.diff)
    except KeyboardInterrupt:
        progress.close()
        print("oncommit-fix: interrupted", file=sys.stderr)
        return 130
    progress.close()
    report = render(args.format, located, sources if args.show_source else None)
    if diffs:
        sys.stdout.write("".join(diffs))
    if args.output:
        try:
            Path(args.output).write_text(report, encoding="utf-8")
        except OSError as error:
            print(
                f"oncommit-fix: error: cannot write {args.output}: {error.strerror or error}", file=sys.stderr
            )
            return 2
    elif report:
        sys.stdout.write(report)
    if not args.quiet:
        _summary(mode, len(files), located, changed, fixed)
    if missing:
        return 2
    return 1 if (located or changed or errors) else 0


def _summary(mode: str, files: int, located: list[Located], changed: int, fixed: int) -> None:
    parts = [f"{files} file{'s' if files != 1 else ''} checked"]
    if mode == "fix" and changed:
        parts.append(f"{fixed} fixed in {changed} file{'s' if changed != 1 else ''}")
    if mode == "diff" and changed:
        parts.append(f"{fixed} would be fixed in {changed} file{'s' if changed != 1 else ''}")
    if located:
        label = "found" if mode == "check" else "left to fix by hand"
        parts.append(f"{len(located)} {label}")
    print("oncommit-fix: " + ", ".join(parts), file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
