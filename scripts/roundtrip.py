#!/usr/bin/env python3
"""Round-trip ``oncommit-fix`` on a copy of a real tree and verify what it did.

    python scripts/roundtrip.py SRC_DIR [--keep WORKDIR] [--jobs N] [--json FILE]
                                [oncommit-fix options, e.g. --style celery]

SRC_DIR is copied (without ``.git``, virtualenvs and the other directories
``oncommit-fix`` never walks) to a temporary work directory, or to WORKDIR
with ``--keep`` (absent or empty; it is kept, with the fix as
``roundtrip.diff``). The source tree itself is never written: symlinks that
lead out of the copy are replaced by copies of their targets. ``--jobs`` is
passed on (0, the default: one worker per CPU); ``--json FILE`` writes the
numbers and violations as JSON. Then, on the
copy, with the ``oncommit-fix`` console script installed next to
``sys.executable``:

1. ``oncommit-fix --check --format json``: the findings before;
2. ``oncommit-fix``: the fix;
3. ``oncommit-fix`` again: must change nothing.

Checks, each violation printed with its path (and hunk):

(a) every changed file parses with libcst, compiles with ``compile()`` when
    the original compiled on this interpreter (files in newer syntax are
    counted apart), and keeps its encoding, BOM, line endings and mode;
(b) the second run leaves the tree byte-identical and exits 0, or 1 only
    because of findings that are not auto-fixable;
(c) every diff hunk (difflib on lines) touches only the statements of fixed
    findings (their [line, end_line] span, the header of an OC103 nested
    def, the ``async`` renamed to ``async_task``) and import lines (import
    statements outside functions and classes, and blank lines next to them);
    the spans are recomputed in-process with the library, and must agree
    with what the console script reported. Then statement by statement
    (libcst): imports aside, the rewrite has the same statements with the
    same blank lines and comments above them, and only those holding a fixed
    finding read differently (an OC103 def: in its parameters only);
(d) files without a fixable finding are byte-identical, and so is every
    file that is not Python;
(e) no temporary file is left behind, and no file appears or disappears;
(f) the first run fixes every fixable finding (no fix refused by
    verification, no write error) and exits as documented; no run crashes.

Exit status: 0 when every check passes, 1 when any fails, 2 on usage errors.
Configuration (``[tool.flake8-oncommit]`` in the tree's ``pyproject.toml``)
is read from the copy, as ``oncommit-fix`` would read it from the original.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import libcst as cst

from flake8_oncommit import cli
from flake8_oncommit.cache import CACHE_DIR
from flake8_oncommit.config import Config, ConfigError
from flake8_oncommit.engine import ParseError, check_text, project_index
from flake8_oncommit.files import TEMP_MARKER, discover, is_excluded_dir
from flake8_oncommit.findings import BindEagerly, DeferCall, DeferStatement, FixPlan, PassCallable, SetUsing
from flake8_oncommit.fix import compiles
from flake8_oncommit.index import ProjectIndex
from flake8_oncommit.positions import locate
from flake8_oncommit.rules import PARSE_ERROR_CODE
from flake8_oncommit.source import SourceError, decode, repair_legacy_async

#: oncommit-fix options this script sets itself or that make no sense here.
RESERVED = {
    "--check",
    "--diff",
    "--format",
    "--output",
    "--show-source",
    "--quiet",
    "-q",
    "--version",
    "-h",
    "--help",
    "--jobs",
    "-j",
}
PYTHON_SUFFIXES = (".py", ".pyi")
CHECKS = {
    "a": "changed files parse, compile, keep encoding/BOM/newlines/mode",
    "b": "a second run changes nothing",
    "c": "diff hunks touch only flagged statements and import lines",
    "d": "files without fixable findings are byte-identical",
    "e": "no temp files left, no file added or removed",
    "f": "every fixable finding fixed, no crash, documented exit status",
}


# --------------------------------------------------------------------------
# Command line


def _fix_option_arity() -> dict[str, bool]:
    """oncommit-fix's options, and whether each takes a value."""
    parser = cli.build_parser()
    arity = {}
    for action in parser._actions:
        for option in action.option_strings:
            arity[option] = action.nargs != 0
    return arity


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    usage = "roundtrip.py SRC_DIR [--keep WORKDIR] [--jobs N] [--json FILE] [oncommit-fix options]"
    arity = _fix_option_arity()
    argv = cli._normalize_argv(argv)
    src: list[str] = []
    keep = jobs = report = None
    fix_options: list[str] = []
    index = 0

    def fail(message: str) -> None:
        print(f"usage: {usage}\nroundtrip.py: error: {message}", file=sys.stderr)
        raise SystemExit(2)

    def value(option: str) -> str:
        nonlocal index
        if index + 1 >= len(argv):
            fail(f"{option} needs a value")
        index += 1
        return argv[index]

    while index < len(argv):
        token = argv[index]
        name, has_equal, inline = token.partition("=")
        if token in ("-h", "--help"):
            print(__doc__)
            raise SystemExit(0)
        if name == "--keep":
            keep = inline if has_equal else value(name)
        elif name in ("--jobs", "-j"):
            jobs = inline if has_equal else value(name)
        elif name == "--json":
            report = inline if has_equal else value(name)
        elif token.startswith("-") and token != "-":
            if name in RESERVED:
                fail(f"{name} is set by roundtrip.py itself")
            if name not in arity:
                fail(f"unknown option {name} (not an oncommit-fix option)")
            option_value = inline if has_equal else (value(name) if arity[name] else None)
            if name == "--config" and option_value is not None:
                option_value = os.path.abspath(option_value)  # the runs happen inside the copy
            fix_options.append(name if option_value is None else f"{name}={option_value}")
        else:
            src.append(token)
        index += 1
    if len(src) != 1:
        fail("exactly one SRC_DIR is needed")
    if not os.path.isdir(src[0]):
        fail(f"{src[0]}: not a directory")
    if jobs is not None and (not jobs.isdigit()):
        fail("--jobs needs a number (0: one per CPU)")
    if keep is not None and os.path.exists(keep) and os.listdir(keep):
        fail(f"--keep {keep}: exists and is not empty")
    # Let oncommit-fix's own parser reject bad values now, not after the copy.
    try:
        cli.build_parser().parse_args([*fix_options, src[0]])
    except SystemExit:
        fail("bad oncommit-fix options (see above)")
    args = argparse.Namespace(src=src[0], keep=keep, jobs=int(jobs or 0), json=report)
    return args, fix_options


def package_origin() -> str:
    """Which flake8_oncommit runs: version, directory, and git state when it is a checkout."""
    import flake8_oncommit

    directory = os.path.dirname(os.path.dirname(os.path.abspath(flake8_oncommit.__file__)))
    origin = f"flake8_oncommit {flake8_oncommit.__version__} from {directory}"
    try:
        head = subprocess.run(
            ["git", "-C", directory, "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        dirty = subprocess.run(
            ["git", "-C", directory, "status", "--porcelain", "--", "flake8_oncommit"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return origin
    if head.returncode == 0 and os.path.isdir(os.path.join(directory, ".git")):
        origin += f" at {head.stdout.strip()}{' (uncommitted changes)' if dirty.stdout.strip() else ''}"
    return origin


def fix_command() -> list[str]:
    script = Path(sys.executable).parent / ("oncommit-fix.exe" if os.name == "nt" else "oncommit-fix")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "flake8_oncommit"]


# --------------------------------------------------------------------------
# Copying and snapshots


def _ignore(directory: str, names: list[str]) -> set[str]:
    skipped = set()
    for name in names:
        path = os.path.join(directory, name)
        if os.path.isdir(path) and not os.path.islink(path):
            if is_excluded_dir(path, name):
                skipped.add(name)
        elif TEMP_MARKER in name:
            skipped.add(name)  # a leftover of a killed run is not ours to judge
    return skipped


def copy_tree(src: str, dest: str) -> int:
    """Copy ``src`` to ``dest``; symlinks stay links unless they lead outside the copy.

    A symlinked file whose target is outside the copy is replaced by a copy of
    the target (``oncommit-fix`` writes through symlinks, and must never reach
    the original); a dangling or outside directory link is removed. Returns
    how many links were replaced or removed.
    """
    shutil.copytree(src, dest, symlinks=True, ignore=_ignore)
    real_dest = os.path.realpath(dest)
    replaced = 0
    for root, dirs, files in os.walk(dest):
        for name in dirs + files:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                continue
            target = os.path.realpath(path)
            if target == real_dest or target.startswith(real_dest + os.sep):
                continue
            os.unlink(path)
            replaced += 1
            if os.path.isfile(target):
                shutil.copyfile(target, path)
    return replaced


@dataclass(frozen=True)
class Entry:
    kind: str  # "file", "link", "dir", "other"
    mode: int
    digest: str


def snapshot(root: str) -> tuple[dict[str, Entry], dict[str, bytes]]:
    """Every entry under ``root`` (relative path -> identity), and Python files' bytes."""
    entries: dict[str, Entry] = {}
    data: dict[str, bytes] = {}
    for directory, dirs, files in os.walk(root):
        # The project index's cache is the tool's own, not the project's.
        dirs[:] = [d for d in dirs if d != CACHE_DIR]
        for name in sorted(dirs + files):
            path = os.path.join(directory, name)
            rel = os.path.relpath(path, root)
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                entries[rel] = Entry("link", 0, os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                entries[rel] = Entry("dir", stat.S_IMODE(info.st_mode), "")
            elif stat.S_ISREG(info.st_mode):
                try:
                    with open(path, "rb") as handle:
                        content = handle.read()
                except OSError as error:
                    entries[rel] = Entry("file", stat.S_IMODE(info.st_mode), f"unreadable: {error}")
                    continue
                entries[rel] = Entry("file", stat.S_IMODE(info.st_mode), hashlib.sha256(content).hexdigest())
                if name.endswith(PYTHON_SUFFIXES):
                    data[rel] = content
            else:
                entries[rel] = Entry("other", stat.S_IMODE(info.st_mode), "")
    return entries, data


# --------------------------------------------------------------------------
# Running oncommit-fix


@dataclass
class Run:
    label: str
    argv: list[str]
    status: int
    findings: list[dict[str, Any]]
    stderr: str
    seconds: float
    crash: str | None = None


def run_fix(label: str, command: list[str], options: list[str], jobs: int, tree: str, check: bool) -> Run:
    argv = [*command, *(["--check"] if check else []), "--format", "json", "--jobs", str(jobs), *options, "."]
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=tree, capture_output=True, text=True, encoding="utf-8", errors="replace")
    seconds = time.monotonic() - started
    run = Run(label, argv, proc.returncode, [], proc.stderr, seconds)
    if proc.returncode not in (0, 1):
        run.crash = f"exit status {proc.returncode}"
    if "Traceback (most recent call last)" in proc.stderr:
        run.crash = "traceback on stderr"
    try:
        report = json.loads(proc.stdout)
        # What is left in the files (the report also lists what this run fixed).
        run.findings = [finding for finding in report["findings"] if not finding.get("fixed")]
        for finding in run.findings:
            finding["path"] = os.path.normpath(finding["path"])
    except (ValueError, KeyError, TypeError) as error:
        run.crash = run.crash or f"stdout is not the JSON report ({error})"
    return run


# --------------------------------------------------------------------------
# Checking a rewritten file


def newline_style(text: str) -> str:
    crlf = text.count("\r\n")
    lf = text.count("\n") - crlf
    cr = text.count("\r") - crlf
    kinds = [kind for kind, count in (("CRLF", crlf), ("LF", lf), ("CR", cr)) if count]
    return "+".join(kinds) if kinds else "none"


def import_lines(module: cst.Module) -> set[int]:
    """Lines of import statements that are not inside a function or class."""
    lines: set[int] = set()
    for st in statements(module):
        if st.is_import:
            lines.update(range(st.start, st.end + 1))
    return lines


def near_imports(lines: list[str], imports: set[int], line: int) -> bool:
    """A blank ``line`` (1-based) separated from an import statement only by blank lines."""
    for step in (-1, 1):
        other = line + step
        while 1 <= other <= len(lines) and not lines[other - 1].strip():
            other += step
        if other in imports:
            return True
    return False


def def_header_lines(module: cst.Module, function: cst.FunctionDef) -> set[int]:
    """From ``def`` to the colon of a function's header (decorators excluded)."""
    start = locate(module, [function]).get(id(function))
    if start is None:
        return set()
    header = function.with_changes(
        decorators=(),
        leading_lines=(),
        lines_after_decorators=(),
        body=cst.SimpleStatementSuite([cst.Pass()]),
    )
    count = max(cst.Module([]).code_for_node(header).count("\n"), 1)
    return set(range(start[0], start[0] + count))


@dataclass
class Allowed:
    """Where the fix may change a file, computed in-process."""

    spans: list[tuple[int, int]]  # fixed findings' [line, end_line], OC103 def headers, renamed async
    findings: list[tuple[int, int, str, bool]]  # (line, end_line, code, fixable), to compare with the CLI
    imports: set[int]
    module: cst.Module
    #: first lines of fixed findings and renamed ``async``: their statements may change
    fixed_lines: list[int]
    #: ids of the nested defs an OC103 fix gives parameters
    rebound: set[int]
    #: [line, end_line] of ``try`` statements deferred whole (they become a def and a call)
    regions: list[tuple[int, int]] = field(default_factory=list)
    #: the shape each fix was made in ("plain statement", "loop body", ...)
    shapes: list[str] = field(default_factory=list)

    def in_span(self, line: int) -> bool:
        return any(start <= line <= end for start, end in self.spans)

    def same_span(self, first: int, second: int) -> bool:
        return any(start <= first <= end and start <= second <= end for start, end in self.spans)


def allowed_changes(text: str, config: Config, filename: str, index: ProjectIndex | None = None) -> Allowed:
    result = check_text(text, config, filename=filename, index=index)
    spans: list[tuple[int, int]] = []
    findings = []
    fixed_lines: list[int] = []
    rebound: set[int] = set()
    module = result.analysis.module if result.analysis is not None else cst.parse_module(text)
    regions: list[tuple[int, int]] = []
    shapes: list[str] = []
    parents = _parents(module)
    for finding, raw in result.pairs:
        findings.append((finding.line, finding.end_line, finding.code, finding.fixable))
        if raw.fix is None:
            continue
        spans.append((finding.line, finding.end_line))
        fixed_lines.append(finding.line)
        shapes.append(shape_of(raw.fix, parents))
        if isinstance(raw.fix, DeferStatement):
            start, _, end, end_column = locate(module, [raw.fix.statement])[id(raw.fix.statement)]
            region = (start, end - 1 if end_column == 0 and end > start else end)
            if region not in regions:
                regions.append(region)
                spans.append(region)
        if isinstance(raw.fix, BindEagerly) and raw.fix.function is not None:
            rebound.add(id(raw.fix.function))
            header = def_header_lines(module, raw.fix.function)
            if header:
                spans.append((min(header), max(header)))
    if result.repaired:
        repair = repair_legacy_async(text)
        if repair is not None:
            spans.extend((line, line) for line, _ in repair.positions)
            fixed_lines.extend(line for line, _ in repair.positions)
    return Allowed(
        spans, sorted(findings), import_lines(module), module, fixed_lines, rebound, regions, shapes
    )


def _parents(module: cst.Module) -> dict[int, cst.CSTNode]:
    parents: dict[int, cst.CSTNode] = {}
    pending: list[cst.CSTNode] = [module]
    while pending:
        node = pending.pop()
        for child in node.children:
            parents[id(child)] = node
            pending.append(child)
    return parents


def shape_of(plan: FixPlan, parents: dict[int, cst.CSTNode]) -> str:
    """Where a fix was made, for the report: the kind of fix and what encloses it."""
    if isinstance(plan, DeferStatement):
        return "try statement deferred whole"
    if isinstance(plan, PassCallable):
        return "OC102: callable passed"
    if isinstance(plan, SetUsing):
        return "OC104: using= set"
    if isinstance(plan, BindEagerly):
        return "OC103: lambda defaults" if plan.function is None else "OC103: nested def parameters"
    assert isinstance(plan, DeferCall)
    context = []
    node: cst.CSTNode | None = parents.get(id(plan.call))
    while node is not None and not isinstance(node, (cst.FunctionDef, cst.Module)):
        if isinstance(node, (cst.For, cst.While)) and "loop" not in context:
            context.append("loop")
        elif isinstance(node, cst.Try) and "try/finally" not in context:
            context.append("try/finally")
        elif isinstance(node, cst.If) and "branch" not in context:
            context.append("branch")
        elif isinstance(node, cst.With) and "with" not in context:
            context.append("with")
        node = parents.get(id(node))
    where = "module level" if isinstance(node, cst.Module) else "function"
    return f"statement ({where}{', ' if context else ''}{', '.join(context)})"


@dataclass(frozen=True)
class Statement:
    """One statement of a module in pre-order: its own code, nested statements hollowed out."""

    kind: str
    leading: str  # the blank lines and comments above it
    own: str
    start: int
    end: int
    is_import: bool
    node_id: int
    #: for a def: its own code with the parameter list emptied
    without_params: str | None = None


class _Hollow(cst.CSTTransformer):
    """Replaces the indented blocks of a statement (not nested deeper) by ``pass``."""

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> bool:
        return False  # its statements are compared on their own

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        return updated_node.with_changes(body=[cst.SimpleStatementLine([cst.Pass()])], footer=())


#: Nodes between a compound statement and the statements it holds.
_CLAUSES = tuple(
    getattr(cst, name)
    for name in ("IndentedBlock", "Else", "ExceptHandler", "ExceptStarHandler", "Finally", "MatchCase")
    if hasattr(cst, name)
)


def _walk_statements(module: cst.Module) -> list[tuple[cst.BaseStatement, bool]]:
    """Every statement, pre-order, and whether a def or class encloses it."""
    found: list[tuple[cst.BaseStatement, bool]] = []

    def visit(node: cst.CSTNode, scoped: bool) -> None:
        for child in node.children:
            if isinstance(child, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
                found.append((child, scoped))
                visit(child, scoped or isinstance(child, (cst.FunctionDef, cst.ClassDef)))
            elif isinstance(child, _CLAUSES):
                visit(child, scoped)

    visit(module, False)
    return found


_STATEMENTS_CACHE: dict[int, tuple[cst.Module, list[Statement]]] = {}


def statements(module: cst.Module) -> list[Statement]:
    """Every statement of ``module``, pre-order (node ids refer to ``module``'s nodes)."""
    cached = _STATEMENTS_CACHE.get(id(module))
    if cached is not None and cached[0] is module:
        return cached[1]
    walked = _walk_statements(module)
    # One code generation pass for all positions (libcst's PositionProvider
    # costs several passes over the whole tree).
    spans = locate(module, [node for node, _ in walked])
    found = []
    for node, scoped in walked:
        start, _, end, end_column = spans[id(node)]
        if end_column == 0 and end > start:
            end -= 1  # a compound statement's span ends after its last newline
        leading = "".join(module.code_for_node(line) for line in getattr(node, "leading_lines", ()))
        hollow = node.with_changes(leading_lines=()).visit(_Hollow())
        assert isinstance(hollow, cst.CSTNode)
        without_params = None
        if isinstance(hollow, cst.FunctionDef):
            without_params = module.code_for_node(hollow.with_changes(params=cst.Parameters()))
        is_import = (
            not scoped
            and isinstance(node, cst.SimpleStatementLine)
            and all(isinstance(small, (cst.Import, cst.ImportFrom)) for small in node.body)
        )
        found.append(
            Statement(
                type(node).__name__,
                leading,
                module.code_for_node(hollow),
                start,
                end,
                is_import,
                id(node),
                without_params,
            )
        )
    # The cache holds the module itself, so its id cannot be reused while cached.
    while len(_STATEMENTS_CACHE) >= 4:
        del _STATEMENTS_CACHE[next(iter(_STATEMENTS_CACHE))]
    _STATEMENTS_CACHE[id(module)] = (module, found)
    return found


#: The nested function a deferred ``try`` becomes.
_DEFERRED_DEF = re.compile(r"^_\w+_after_commit(_\d+)?$")


def check_statements(
    path: str,
    old_module: cst.Module,
    new_module: cst.Module,
    fixed_lines: list[int],
    rebound: set[int],
    regions: tuple[tuple[int, int], ...] = (),
) -> list[str]:
    """Violations of (c), statement by statement (imports aside).

    The fix rewrites expressions inside statements and a nested def's
    parameters; it adds imports. So, imports left out, the statements of
    the rewrite must pair one to one with the original's, each with the same
    leading blank lines and comments (blank lines may grow after the import
    block), and only a statement that directly holds a fixed finding (or an
    OC103 def, in its parameters only) may read differently.
    """
    old_all, new_all = statements(old_module), statements(new_module)
    holders: set[int] = set()
    for line in fixed_lines:
        inner = [index for index, st in enumerate(old_all) if st.start <= line <= st.end]
        if inner:
            holders.add(max(inner))  # pre-order: the last one containing the line is the innermost
    after_import = {index for index in range(1, len(new_all)) if new_all[index - 1].is_import}
    # A ``try`` deferred whole is replaced by a def holding it and an
    # on_commit line: compared apart (the oracle proves its behaviour).
    inserted = _inserted_defs(new_module, new_all)
    old = [
        (index, st)
        for index, st in enumerate(old_all)
        if not st.is_import and not any(start <= st.start and st.end <= end for start, end in regions)
    ]
    new = [(index, st) for index, st in enumerate(new_all) if not st.is_import and index not in inserted]

    def key(st: Statement) -> tuple[str, str]:
        return (st.kind, st.own)

    problems = []
    matcher = difflib.SequenceMatcher(
        None, [key(st) for _, st in old], [key(st) for _, st in new], autojunk=False
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal" and (i2 - i1) != (j2 - j1):
            lines = ", ".join(f"{st.kind} at line {st.start}" for _, st in old[i1:i2]) or "none"
            added = ", ".join(f"{st.kind} at line {st.start}" for _, st in new[j1:j2]) or "none"
            problems.append(f"{path}: statements added or removed (original: {lines}; rewrite: {added})")
            continue
        for (oi, o), (ni, n) in zip(old[i1:i2], new[j1:j2]):
            if o.kind != n.kind:
                problems.append(f"{path}:{o.start}: a {o.kind} became a {n.kind}")
                continue
            if o.leading != n.leading:
                blanks_only = [x for x in o.leading.splitlines() if x.strip()] == [
                    x for x in n.leading.splitlines() if x.strip()
                ]
                if not (ni in after_import and blanks_only):
                    problems.append(f"{path}:{o.start}: the lines above this {o.kind} changed")
            if o.own == n.own:
                continue
            if oi in holders:
                continue
            if o.node_id in rebound and o.without_params == n.without_params:
                continue
            problems.append(
                f"{path}:{o.start}: a {o.kind} without a fixed finding was changed\n"
                + "\n".join(
                    "    " + line.rstrip("\r\n")
                    for line in difflib.unified_diff(
                        o.own.splitlines(True), n.own.splitlines(True), "original", "rewrite", n=1
                    )
                )
            )
    return problems


def _inserted_defs(module: cst.Module, all_statements: list[Statement]) -> set[int]:
    """Indexes of the statements a deferred ``try`` became: the def, what it holds, the call after it."""
    found: set[int] = set()
    for st in all_statements:
        if st.kind == "FunctionDef" and _DEFERRED_DEF.match(st.own.split("def ", 1)[-1].split("(", 1)[0]):
            for inner, other in enumerate(all_statements):
                if st.start <= other.start and other.end <= st.end:
                    found.add(inner)
            following = [i for i, other in enumerate(all_statements) if other.start > st.end]
            if following:
                found.add(following[0])
    return found


def hunk_text(old: list[str], new: list[str], i1: int, i2: int, j1: int, j2: int, context: int = 2) -> str:
    """One hunk in unified-diff form, with a little context."""
    start = max(i1 - context, 0)
    end = min(i2 + context, len(old))
    out = [f"    @@ -{i1 + 1},{i2 - i1} +{j1 + 1},{j2 - j1} @@"]
    out += [f"     {line.rstrip(chr(13) + chr(10))}" for line in old[start:i1]]
    out += [f"    -{line.rstrip(chr(13) + chr(10))}" for line in old[i1:i2]]
    out += [f"    +{line.rstrip(chr(13) + chr(10))}" for line in new[j1:j2]]
    out += [f"     {line.rstrip(chr(13) + chr(10))}" for line in old[i2:end]]
    return "\n".join(out)


def check_hunks(
    path: str, old_text: str, new_text: str, allowed: Allowed, new_imports: set[int]
) -> list[str]:
    """Violations of (c): hunks outside fixed statements and import lines."""
    old = old_text.splitlines(keepends=True)
    new = new_text.splitlines(keepends=True)
    # Compare without line endings: a changed ending is reported by (a).
    matcher = difflib.SequenceMatcher(
        None, [line.rstrip("\r\n") for line in old], [line.rstrip("\r\n") for line in new], autojunk=False
    )
    problems = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        removed = range(i1 + 1, i2 + 1)  # 1-based lines of the original
        added = range(j1 + 1, j2 + 1)  # 1-based lines of the rewrite

        def old_ok(line: int) -> bool:
            if allowed.in_span(line) or line in allowed.imports:
                return True
            return not old[line - 1].strip() and near_imports(old, allowed.imports, line)

        def new_ok(line: int) -> bool:
            if line in new_imports:
                return True
            return not new[line - 1].strip() and near_imports(new, new_imports, line)

        bad_old = [line for line in removed if not old_ok(line)]
        if any(allowed.in_span(line) for line in removed):
            bad_new: list[int] = []  # the rewritten statement
        elif not removed and i1 >= 1 and allowed.same_span(i1, i1 + 1):
            bad_new = []  # lines added inside a fixed statement
        else:
            bad_new = [line for line in added if not new_ok(line)]
        if bad_old or bad_new:
            reasons = []
            if bad_old:
                reasons.append(
                    f"original line(s) {_ranges(bad_old)} are neither a fixed finding nor an import"
                )
            if bad_new:
                reasons.append(
                    f"new line(s) {_ranges(bad_new)} are neither a rewritten statement nor an import"
                )
            problems.append(f"{path}: {'; '.join(reasons)}\n{hunk_text(old, new, i1, i2, j1, j2)}")
    return problems


def _ranges(lines: list[int]) -> str:
    out: list[list[int]] = []
    for line in lines:
        if out and out[-1][1] == line - 1:
            out[-1][1] = line
        else:
            out.append([line, line])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in out)


# --------------------------------------------------------------------------
# The whole round trip


@dataclass
class Report:
    src: str
    tree: str
    options: list[str]
    python: str = f"{sys.version_info.major}.{sys.version_info.minor}"
    numbers: dict[str, int] = field(default_factory=dict)
    by_code: dict[str, int] = field(default_factory=dict)
    violations: dict[str, list[str]] = field(default_factory=lambda: {key: [] for key in CHECKS})
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    package: str = ""
    #: the fix, as a unified diff of every changed file
    diff: str = ""
    #: how many fixes were made in each shape (see :func:`shape_of`)
    shapes: Counter[str] = field(default_factory=Counter)
    #: why the findings that are not fixable are not, and how many each
    reasons: Counter[str] = field(default_factory=Counter)

    def fail(self, check: str, message: str) -> None:
        self.violations[check].append(message)

    @property
    def ok(self) -> bool:
        return not any(self.violations.values())


def roundtrip(src: str, work: str, options: list[str], jobs: int) -> Report:
    started = time.monotonic()
    tree = os.path.join(work, os.path.basename(os.path.abspath(src).rstrip(os.sep)) or "tree")
    report = Report(src=src, tree=tree, options=options, package=package_origin())
    links = copy_tree(src, tree)
    if links:
        report.notes.append(f"{links} symlink(s) leading outside the tree replaced by copies or removed")
    report.seconds["copy"] = time.monotonic() - started

    mark = time.monotonic()
    entries0, data0 = snapshot(tree)
    python_files = sorted(os.path.normpath(os.path.relpath(p, tree)) for p in discover([tree]))
    report.seconds["snapshot"] = time.monotonic() - mark

    command = fix_command()
    before = run_fix("check", command, options, jobs, tree, check=True)
    fix1 = run_fix("fix", command, options, jobs, tree, check=False)
    entries1, data1 = snapshot(tree)
    fix2 = run_fix("fix again", command, options, jobs, tree, check=False)
    entries2, _ = snapshot(tree)
    for run in (before, fix1, fix2):
        report.seconds[run.label] = run.seconds
        if run.crash:
            report.fail("f", f"{run.label}: {run.crash}: {' '.join(run.argv)}\n{_indent(run.stderr)}")

    mark = time.monotonic()
    findings = [f for f in before.findings if f["code"] != PARSE_ERROR_CODE]
    parse_errors = [f for f in before.findings if f["code"] == PARSE_ERROR_CODE]
    fixable = [f for f in findings if f["fixable"]]
    by_file: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for finding in findings:
        by_file[finding["path"]].append(finding)
    fixable_files = {f["path"] for f in fixable}
    changed = sorted(rel for rel in entries0 if rel in entries1 and entries0[rel] != entries1[rel])
    report.by_code = dict(sorted(Counter(f["code"] for f in findings).items()))
    report.reasons = Counter(
        _reason_kind(f["reason"]) for f in findings if not f["fixable"] and f.get("reason")
    )
    report.numbers.update(
        files=len(python_files),
        files_with_findings=len(by_file),
        findings=len(findings),
        fixable=len(fixable),
        unfixable=len(findings) - len(fixable),
        parse_errors=len(parse_errors),
        files_changed=len(changed),
        fixed=sum(len([f for f in by_file[rel] if f["fixable"]]) for rel in changed),
    )
    for error in parse_errors:
        report.notes.append(f"cannot parse: {error['path']}:{error['line']}: {error['message']}")

    # (f) the check run and the first fix run: exit status, refused fixes, its own count.
    if not before.crash and before.status != (1 if before.findings else 0):
        report.fail("f", f"--check exited {before.status} with {len(before.findings)} findings")
    remaining = [f for f in fix1.findings if f["code"] != PARSE_ERROR_CODE]
    refused = [line for line in fix1.stderr.splitlines() if ": fix not applied: " in line]
    for line in refused:
        report.fail("f", f"fix refused: {line}")
    left_fixable = [f for f in fix1.findings if f["fixable"]]
    for finding in left_fixable:
        report.fail("f", f"fixable finding left after the fix: {_where(finding)}")
    expected_status = 1 if (changed or fix1.findings or refused) else 0
    if not fix1.crash and fix1.status != expected_status:
        report.fail("f", f"first fix run exited {fix1.status}, expected {expected_status}")
    summary = re.search(r"(\d+) fixed in (\d+) file", fix1.stderr)
    cli_fixed = (int(summary.group(1)), int(summary.group(2))) if summary else (0, 0)
    if cli_fixed != (report.numbers["fixed"], len(changed)):
        report.fail(
            "f",
            f"oncommit-fix says {cli_fixed[0]} fixed in {cli_fixed[1]} files; the tree says "
            f"{report.numbers['fixed']} in {len(changed)}",
        )
    # Left: the unfixable findings found before, less any a fix resolved (an
    # OC105 whose helper in the same file was fixed); never a new one.
    new_after_fix = Counter(_key(f) for f in remaining if not f["fixable"]) - Counter(
        _key(f) for f in findings if not f["fixable"]
    )
    if new_after_fix:
        report.fail("f", f"findings after the fix that were not there before: {sorted(new_after_fix)}")
    report.numbers["not_fixed_left"] = len(remaining)

    # (b) the second run.
    for rel in sorted(set(entries1) | set(entries2)):
        if entries1.get(rel) != entries2.get(rel):
            report.fail("b", f"{rel}: changed by the second run")
    second_left = [f for f in fix2.findings]
    if any(f["fixable"] for f in second_left):
        for finding in (f for f in second_left if f["fixable"]):
            report.fail("b", f"second run still reports a fixable finding: {_where(finding)}")
    if not fix2.crash:
        wanted = 1 if second_left else 0
        if fix2.status != wanted:
            report.fail(
                "b", f"second run exited {fix2.status} with {len(second_left)} unfixable findings left"
            )
        for line in fix2.stderr.splitlines():
            if ": fix not applied: " in line:
                report.fail("b", f"second run: {line}")
    # What the first run left, less the OC105 whose helper the same run fixed in
    # another file (each file is re-checked only after its own fix); never a new one.
    first = Counter(_key(f) for f in remaining if f["code"] != PARSE_ERROR_CODE)
    second = Counter(_key(f) for f in second_left if f["code"] != PARSE_ERROR_CODE)
    appeared, resolved = second - first, first - second
    if appeared:
        report.fail("b", f"second run reports findings the first left nowhere: {sorted(appeared)}")
    if any(code != "OC105" for _, code, _ in resolved):
        report.fail(
            "b",
            f"second run lost findings the first left (only an OC105 may go): "
            f"{sorted(key for key in resolved if key[1] != 'OC105')}",
        )
    report.numbers["oc105_resolved_by_helper_fixes"] = sum(resolved.values())

    # (d) and (e): what changed, and what appeared.
    for rel in sorted(set(entries0) | set(entries1) | set(entries2)):
        name = os.path.basename(rel)
        if TEMP_MARKER in name:
            report.fail("e", f"{rel}: temporary file left behind")
        elif rel not in entries0:
            report.fail("e", f"{rel}: appeared during the runs")
        elif rel not in entries1 or rel not in entries2:
            report.fail("e", f"{rel}: disappeared during the runs")
    for rel in changed:
        if rel not in data0:
            report.fail("d", f"{rel}: not a Python file but changed")
        elif rel not in fixable_files:
            report.fail("d", f"{rel}: changed without a fixable finding")
    for rel in sorted(fixable_files - set(changed)):
        if not refused:
            report.fail("f", f"{rel}: has fixable findings but was not changed")

    # (a) and (c): each changed file, in detail.
    config = resolve_config(options, tree)
    # The project index the console script used, read from the untouched
    # source tree (the copy's other modules may be fixed by now); nothing is
    # cached there: the source tree is never written.
    index = project_index(Path(src), config)
    newer_syntax = compiled = 0
    diffs = []
    for rel in changed:
        if rel not in data0 or rel not in data1:
            continue
        try:
            old_source, new_source = decode(data0[rel]), decode(data1[rel])
        except SourceError as error:
            report.fail("a", f"{rel}: cannot decode: {error}")
            continue
        old_text, new_text = old_source.text, new_source.text
        diffs.append(
            "".join(
                difflib.unified_diff(
                    old_text.splitlines(True), new_text.splitlines(True), f"a/{rel}", f"b/{rel}"
                )
            )
        )
        if (old_source.encoding, old_source.bom) != (new_source.encoding, new_source.bom):
            report.fail(
                "a",
                f"{rel}: encoding/BOM changed from {old_source.encoding}/{old_source.bom} "
                f"to {new_source.encoding}/{new_source.bom}",
            )
        if newline_style(old_text) != newline_style(new_text) and "+" not in newline_style(old_text):
            report.fail(
                "a",
                f"{rel}: line endings changed from {newline_style(old_text)} to {newline_style(new_text)}",
            )
        if entries0[rel].mode != entries1[rel].mode:
            report.fail(
                "a", f"{rel}: mode changed from {oct(entries0[rel].mode)} to {oct(entries1[rel].mode)}"
            )
        try:
            new_module = cst.parse_module(new_text)
        except cst.ParserSyntaxError as error:
            report.fail(
                "a", f"{rel}: the rewrite does not parse with libcst: {' '.join(error.message.split())}"
            )
            continue
        if compiles(old_text, rel):
            if compiles(new_text, rel):
                compiled += 1
            else:
                try:
                    compile(new_text, rel, "exec", dont_inherit=True)
                except (SyntaxError, ValueError) as error:
                    report.fail("a", f"{rel}: the rewrite does not compile: {error}")
        else:
            newer_syntax += 1
        try:
            # The absolute path: the module's dotted name (for relative
            # imports) is worked out from it, as in the CLI run inside the copy.
            allowed = allowed_changes(old_text, config, os.path.join(tree, rel), index)
        except ParseError as error:
            report.fail("c", f"{rel}: the original cannot be re-analysed in-process: {error.message}")
            continue
        cli_findings = sorted(
            (f["line"], f["end_line"], f["code"], f["fixable"]) for f in by_file.get(rel, ())
        )
        if allowed.findings != cli_findings:
            report.fail(
                "c", f"{rel}: in-process findings {allowed.findings} differ from the CLI's {cli_findings}"
            )
        for problem in check_hunks(rel, old_text, new_text, allowed, import_lines(new_module)):
            report.fail("c", problem)
        for problem in check_statements(
            rel, allowed.module, new_module, allowed.fixed_lines, allowed.rebound, tuple(allowed.regions)
        ):
            report.fail("c", problem)
        report.shapes.update(allowed.shapes)
    report.numbers.update(changed_compiled=compiled, changed_newer_syntax=newer_syntax)
    report.diff = "".join(diffs)
    report.seconds["verify"] = time.monotonic() - mark
    report.seconds["total"] = time.monotonic() - started
    return report


def resolve_config(options: list[str], tree: str) -> Config:
    """The configuration the console script used for ``tree``."""
    args = cli.build_parser().parse_args(cli._normalize_argv([*options, tree]))
    args.quiet = True
    try:
        return cli.resolve_config(args)[0]
    except ConfigError as error:
        raise SystemExit(f"roundtrip.py: configuration error: {error}") from None


def _reason_kind(reason: str) -> str:
    """A not-fixable reason without its particulars (names, expressions), to count alike ones together."""
    reason = re.sub(r"its argument .+? is changed", "its argument ... is changed", reason)
    reason = re.sub(r"using= \(.*?\)", "using= (...)", reason)
    return re.sub(r"inside \w+\(\)", "inside ...()", reason)


def _key(finding: dict[str, Any]) -> tuple[str, str, str]:
    """A finding whatever its line: messages name lines too (``opened at line 12``), which a fix shifts."""
    return (finding["path"], finding["code"], re.sub(r"\d+", "N", finding["message"]))


def _where(finding: dict[str, Any]) -> str:
    return f"{finding['path']}:{finding['line']}: {finding['code']}"


def _indent(text: str, limit: int = 40) -> str:
    lines = text.rstrip().splitlines()
    if len(lines) > limit:
        lines = [*lines[: limit // 2], "...", *lines[-limit // 2 :]]
    return "\n".join("    " + line for line in lines)


def render(report: Report) -> str:
    n = report.numbers
    options = " ".join(report.options) or "(defaults)"
    out = [
        f"roundtrip: {report.src} (copy: {report.tree})",
        f"  oncommit-fix options: {options}; Python {report.python}",
        f"  {report.package}",
        f"  files total: {n['files']}",
        f"  files with findings: {n['files_with_findings']}",
        f"  findings: {n['findings']} (fixable {n['fixable']}, not fixable {n['unfixable']})",
        f"  by code: {', '.join(f'{code} {count}' for code, count in report.by_code.items()) or '-'}",
        f"  cannot parse (OC000): {n['parse_errors']}",
        f"  files changed: {n['files_changed']}",
        f"  fixes applied: {n['fixed']}",
        f"  findings left to fix by hand: {n['not_fixed_left']}",
        f"  changed files compiled: {n['changed_compiled']} "
        f"(not compiled, original not compilable on Python {report.python}: {n['changed_newer_syntax']})",
    ]
    if report.shapes:
        out.append("  fixes by shape:")
        out += [f"    {count:4} {shape}" for shape, count in report.shapes.most_common()]
    if report.reasons:
        out.append("  not fixable, by reason:")
        out += [f"    {count:4} {reason}" for reason, count in report.reasons.most_common()]
    out += [f"  note: {note}" for note in report.notes]
    out.append("checks:")
    for key, title in CHECKS.items():
        found = report.violations[key]
        out.append(f"  ({key}) {title}: {'ok' if not found else f'{len(found)} violation(s)'}")
        out += [_indent(message) for message in found]
    seconds = ", ".join(f"{label} {value:.1f}s" for label, value in report.seconds.items())
    out.append(f"time: {seconds}")
    total = sum(len(v) for v in report.violations.values())
    out.append(f"violations: {total}")
    out.append(f"result: {'OK' if report.ok else 'FAILED'}")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    args, options = parse_args(sys.argv[1:] if argv is None else argv)
    if args.keep:
        work = os.path.abspath(args.keep)
        os.makedirs(work, exist_ok=True)
    else:
        work = tempfile.mkdtemp(prefix="oncommit-roundtrip-")
    try:
        report = roundtrip(args.src, work, options, args.jobs)
        if args.keep:
            diff = os.path.join(work, "roundtrip.diff")
            Path(diff).write_text(report.diff, encoding="utf-8")
            report.notes.append(f"kept: {report.tree}, the fix as {diff}")
        sys.stdout.write(render(report))
        if args.json:
            payload = dataclasses.asdict(report)
            payload.pop("diff")
            payload["ok"] = report.ok
            Path(args.json).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
