"""The pipeline every front end shares: text -> pre-check -> parse -> analyse -> findings.

The flake8 plugin, ``oncommit-fix`` and the library API call
:func:`check_text`; the fixer takes the :class:`CheckResult` (tree and raw
findings included) so a file is parsed once whether it is reported or fixed.
"""

from __future__ import annotations

import ast
import functools
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from .analysis import Analysis, analyse, summarise_module
from .checks import words as rule_words
from .config import DEFAULT_CONFIG, Config
from .findings import Finding, RawFinding
from .index import ProjectIndex
from .names import module_name_of
from .noqa import NoqaFilter, file_is_excluded
from .positions import locate
from .precheck import could_have_findings
from .rules import RULES
from .source import repair_legacy_async
from .summaries import ModuleSummary


class ParseError(Exception):
    """The text is not Python that libcst can parse."""

    def __init__(self, message: str, line: int = 1, column: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@dataclass
class CheckResult:
    """Findings for one text, with what the fixer needs to act on them."""

    #: the analysed text: the input, or the input with legacy ``async`` renamed
    text: str
    findings: list[Finding] = field(default_factory=list)
    analysis: Analysis | None = None
    #: each reported finding with its node-level counterpart
    pairs: list[tuple[Finding, RawFinding]] = field(default_factory=list)
    repaired: bool = False


#: One pass over what nests in a syntax tree: brackets (calls and subscripts
#: chain), line starts, operators, attribute dots, keyword operators.
_SHAPE = re.compile(
    r"[(\[{]|[)\]}]|\n|[-+*/%@|&^~]|\.(?=[^\W\d])|\b(?:and|or|not|lambda|if|else|await|in|is)\b"
)
#: Past these, look closer before handing the text to libcst.
_SUSPICIOUS_BRACKETS = 100
_SUSPICIOUS_OPERATORS = 1000
#: Deeper trees than this are refused: libcst's parser slows down
#: super-linearly on them (a 3,000-call method chain takes 40 s), its Rust
#: stack can overflow (a segfault no ``except`` catches), and the analysis
#: would hit Python's recursion limit anyway.
MAX_DEPTH = 200


def _looks_deep(text: str) -> int:
    """Cheap upper bound: deep brackets, or a huge run of operators in one statement.

    Returns the line where it looks deep, or 0.
    """
    depth = run = 0
    line = 1
    for match in _SHAPE.finditer(text):
        char = match.group()[0]
        if char in "([{":
            depth += 1
            run += 1  # ``a[0][0]...`` and ``f()()...`` nest without going deep in brackets
            if depth > _SUSPICIOUS_BRACKETS:
                return line
        elif char in ")]}":
            depth -= 1
        elif char == "\n":
            line += 1
            if depth <= 0:
                run = 0
        else:
            run += 1
        if run > _SUSPICIOUS_OPERATORS:
            return line
    return 0


def check_depth(text: str) -> None:
    """Raise :class:`ParseError` for text too deeply nested to parse safely."""
    suspect = _looks_deep(text)
    if not suspect:
        return
    too_deep = f"too deeply nested to analyse (more than {MAX_DEPTH} levels)"
    try:
        tree = compile(text, "<file>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (RecursionError, MemoryError):
        raise ParseError(too_deep, suspect) from None
    except (SyntaxError, ValueError) as error:
        if isinstance(error, SyntaxError) and "too many nested" in str(error.msg):
            column = max((error.offset or 1) - 1, 0)
            raise ParseError(f"SyntaxError: {error.msg}", error.lineno or suspect, column) from None
        unparseable = "too deeply nested to analyse safely, and not parseable by this Python"
        raise ParseError(unparseable, suspect) from None
    pending: list[tuple[ast.AST, int, int]] = [(tree, 0, suspect)]
    while pending:
        node, depth, line = pending.pop()
        line = getattr(node, "lineno", line)
        if depth > MAX_DEPTH:
            raise ParseError(too_deep, line)
        pending.extend((child, depth + 1, line) for child in ast.iter_child_nodes(node))


def parse(text: str) -> tuple[cst.Module, frozenset[tuple[int, int]]]:
    """Parse ``text``; on failure, retry once with legacy ``async`` renamed.

    Returns the module and the positions that were renamed (empty when none).
    """
    check_depth(text)
    try:
        return _parse_module(text), frozenset()
    except cst.ParserSyntaxError as error:
        repair = repair_legacy_async(text)
        if repair is not None:
            try:
                return _parse_module(repair.text), repair.positions
            except cst.ParserSyntaxError:
                pass
        raise _explain(text, error) from None
    except (RecursionError, MemoryError) as error:
        raise ParseError(f"too deeply nested ({type(error).__name__})") from None


#: libcst's native parser recurses on the C stack; a thread with a large one
#: turns a shape the depth check did not foresee into a slow parse or an
#: error, never a segfault (only touched pages of it are ever allocated).
_PARSER_STACK_BYTES = 512 * 1024 * 1024


def _parse_module(text: str) -> cst.Module:
    outcome: list[cst.Module | BaseException] = []

    def run() -> None:
        try:
            outcome.append(cst.parse_module(text))
        except BaseException as error:  # handed back to the caller's thread
            outcome.append(error)

    try:
        previous = threading.stack_size(_PARSER_STACK_BYTES)
    except (ValueError, RuntimeError):  # pragma: no cover - platform without it
        return cst.parse_module(text)
    worker = threading.Thread(target=run, name="oncommit-parse", daemon=True)
    interrupted = False
    try:
        worker.start()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        threading.stack_size(previous)
    # Ctrl-C waits for the parse to end: the interpreter must not exit while
    # the thread is inside the native parser (it would be killed there, and
    # the process abort with SIGABRT instead of exiting with status 130).
    while worker.ident is not None:
        try:
            worker.join()
            break
        except KeyboardInterrupt:
            interrupted = True
    if interrupted:
        raise KeyboardInterrupt
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result


def _explain(text: str, error: cst.ParserSyntaxError) -> ParseError:
    """The interpreter's own message and position when it agrees the text is broken.

    libcst reports where its parser gave up (often the next line); CPython
    points at the offending token with a message users know.
    """
    try:
        compile(text, "<file>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as syntax:
        if syntax.lineno is not None:
            return ParseError(
                f"{type(syntax).__name__}: {syntax.msg}", syntax.lineno, max((syntax.offset or 1) - 1, 0)
            )
    except (ValueError, RecursionError, MemoryError):
        pass
    return ParseError(_one_line(error.message), error.raw_line, error.raw_column)


def _one_line(message: str) -> str:
    return " ".join(message.split())


def check_text(
    text: str,
    config: Config = DEFAULT_CONFIG,
    *,
    filename: str = "<string>",
    honour_noqa: bool = True,
    index: ProjectIndex | None = None,
) -> CheckResult:
    """Every finding in ``text``, positioned, ``# noqa`` applied when asked.

    With a project ``index``, names imported from the project's other
    modules are understood too. Raises :class:`ParseError` when the text
    cannot be parsed.
    """
    wrappers = index.wrapper_names() if index is not None else ()
    if not passes_precheck(text, config, wrappers, project=index is not None):
        return CheckResult(text)
    if honour_noqa and file_is_excluded(text):
        return CheckResult(text)
    try:
        return _check(text, config, filename, honour_noqa, index)
    except RecursionError:
        raise ParseError("too deeply nested to analyse (RecursionError)") from None


def passes_precheck(
    text: str, config: Config, wrappers: tuple[str, ...] = (), *, project: bool = False
) -> bool:
    """The text pre-check (:mod:`.precheck`) with the words of the rules ``config`` enables."""
    return could_have_findings(text, config, wrappers, project=project, words=_words(config))


@functools.lru_cache(maxsize=32)
def _words(config: Config) -> tuple[str, ...]:
    """The enabled rules' pre-check words (a configuration is frozen: computed once)."""
    return rule_words(config)


def _module_name(filename: str, index: ProjectIndex | None) -> str | None:
    if index is None or filename.startswith("<"):
        return None
    name, root = module_name_of(Path(filename))
    index.add_root(root)
    return name or None


def summarise_text(
    text: str, config: Config, filename: str, module: str, index: ProjectIndex | None = None
) -> ModuleSummary:
    """The project-index summary of one module (see :mod:`.index`); empty if it cannot be read."""
    try:
        parsed, _ = parse(text)
        return summarise_module(parsed, config, filename=filename, module_name=module, index=index)
    except (ParseError, RecursionError):
        return ModuleSummary()


ProjectIndex.summariser = summarise_text


def _check(
    text: str, config: Config, filename: str, honour_noqa: bool, index: ProjectIndex | None
) -> CheckResult:
    module, renamed = parse(text)
    analysed_text = module.code if renamed else text
    analysis = analyse(
        module,
        config,
        filename=filename,
        legacy_async=renamed,
        atomic_requests=config.atomic_requests == "true",
        module_name=_module_name(filename, index),
        index=index,
    )
    result = CheckResult(analysed_text, analysis=analysis, repaired=bool(renamed))
    if not analysis.findings:
        return result
    spans = locate(module, [raw.node for raw in analysis.findings])
    noqa = NoqaFilter(analysed_text) if honour_noqa else None
    for raw in analysis.findings:
        line, column, end_line, end_column = spans.get(id(raw.node), (1, 0, 1, 0))
        if noqa is not None and noqa.suppresses(raw.code, line):
            continue
        finding = Finding(
            line=line,
            column=column,
            code=raw.code,
            message=raw.message,
            end_line=end_line,
            end_column=end_column,
            fixable=raw.fix is not None,
            reason=raw.reason if RULES[raw.code].fixable else None,
        )
        result.pairs.append((finding, raw))
    result.pairs.sort(key=lambda pair: pair[0])
    result.findings = [finding for finding, _ in result.pairs]
    return result
