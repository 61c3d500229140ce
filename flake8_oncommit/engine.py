"""The pipeline every front end shares: text -> pre-check -> parse -> analyse -> findings.

The flake8 plugin, ``oncommit-fix`` and the library API call
:func:`check_text`; the fixer takes the :class:`CheckResult` (tree and raw
findings included) so a file is parsed once whether it is reported or fixed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .analysis import Analysis, analyse, summarise_module
from .cache import Store
from .config import DEFAULT_CONFIG, Config
from .findings import Finding, RawFinding
from .index import ProjectIndex
from .names import module_name_of
from .noqa import NoqaFilter, file_is_excluded
from .parsing import MAX_DEPTH, ParseError, check_depth, parse
from .positions import locate
from .precheck import passes_precheck
from .rules import RULES
from .slicing import sliced
from .summaries import ModuleSummary

__all__ = [
    "MAX_DEPTH",
    "CheckResult",
    "ParseError",
    "analyse_text",
    "check_depth",
    "check_text",
    "parse",
    "project_index",
    "summarise_text",
]


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
    if not passes_precheck(text, config, index):
        return CheckResult(text)
    if honour_noqa and excluded_by_noqa(text):
        return CheckResult(text)
    return analyse_text(text, config, filename, honour_noqa, index)


def analyse_text(
    text: str, config: Config, filename: str, honour_noqa: bool, index: ProjectIndex | None
) -> CheckResult:
    """Parse and analyse ``text`` (the pre-check already let it through).

    A slice of the text is analysed first (:mod:`.slicing`): when it has no
    finding the whole text has none, and the result carries no analysis
    (nothing parsed the whole text). Otherwise the whole text is analysed.
    """
    try:
        wrappers = index.known_wrapper_names if index is not None else ()
        part = sliced(text, config, wrappers) if wrappers is not None else None
        if part is not None:
            try:
                found = _check(part, config, filename, False, index)
            except ParseError:
                found = None  # the whole text decides how it fails
            if found is not None and not found.pairs:
                return CheckResult(text)
        return _check(text, config, filename, honour_noqa, index)
    except RecursionError:
        raise ParseError("too deeply nested to analyse (RecursionError)") from None


#: A file marked ``flake8: noqa`` (a comment on its own) reports nothing.
excluded_by_noqa = file_is_excluded


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


def project_index(
    root: Path,
    config: Config,
    *,
    store: Store | None = None,
    roots: Iterable[Path] = (),
    files: Sequence[Path] | None = None,
) -> ProjectIndex:
    """An index of the project at ``root`` whose modules this engine summarises.

    The front end that calls this owns the index for its run and decides
    whether summaries are kept on disk (``store``).
    """
    return ProjectIndex(root, config, summarise_text, store=store, roots=roots, files=files)


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
