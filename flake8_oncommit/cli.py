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

from .add_noqa import add_noqa, unused_noqa
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
from .exclusion import Selection
from .explain import explain
from .files import FileError, Snapshot, discover, read, write_atomic
from .findings import Finding
from .fix import FixError, fix_text
from .index import ProjectIndex
from .output import FORMATS, MACHINE_FORMATS, Located, render
from .rules import PARSE_ERROR_CODE, RULES
from .settings_scan import project_root, with_project_settings
from .source import SourceError, decode
from .summary import RunSummary
from .terminal import COLOR_CHOICES, Style
from .version import __version__

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
    #: ``--add-noqa``: silence what is left after fixing
    add_noqa: bool = False
    #: ``--report-unused-noqa``
    unused_noqa: bool = False


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
    config, mode, keep_lines = job.config.for_path(path), job.mode, job.keep_lines
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
        "--no-cache",
        action="store_true",
        help="neither read nor write the module summaries in .oncommit_cache/",
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


def resolve_config(args: argparse.Namespace) -> tuple[Config, list[str]]:
    """The file's configuration, the flags on top, completed from the project's settings.

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
    return with_project_settings(config, project_root(_common_start(args.paths)))


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


def _in_pre_commit() -> bool:
    """pre-commit runs hooks once per batch of files, with ``PRE_COMMIT=1`` set."""
    return os.environ.get("PRE_COMMIT") == "1"


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
        config, notes = resolve_config(args)
    except ConfigError as error:
        print(f"oncommit-fix: configuration error: {error}", file=sys.stderr)
        return 2
    err_style = Style.for_stream(sys.stderr, args.color)
    batch = _in_pre_commit()
    # What the settings said is worth a line where a person reads it; under
    # pre-commit it would repeat once per batch (OC106 messages name it anyway).
    if not args.quiet and (args.verbose or (sys.stderr.isatty() and not batch)):
        for note in notes:
            print(f"oncommit-fix: {note}", file=sys.stderr)
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
    try:
        root = str(project_root(_common_start(args.paths))) if files else None
        job = Job(
            config,
            mode,
            args.show_source,
            root,
            use_cache=not args.no_cache,
            add_noqa=args.add_noqa,
            unused_noqa=args.report_unused_noqa,
        )
        index = _index(job)
        if index is not None:
            # Scanned here, once, rather than by every worker.
            job = dataclasses.replace(job, wrappers=index.wrapper_names())
        for result in _run_all(files, job, args.jobs):
            progress.step()
            located.extend(_gather(result, summary, sources, diffs))
    except KeyboardInterrupt:
        progress.close()
        print("oncommit-fix: interrupted", file=sys.stderr)
        return 130
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
