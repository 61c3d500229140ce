"""``oncommit-fix --add-noqa``: silence what is left, so CI goes green and the backlog stays visible.

Each finding gets ``# noqa: CODE`` where flake8 (and ``oncommit-fix``)
will read it: on its own line, or, when the line is part of a stretch
flake8 reads as one (a triple-quoted string, a backslash continuation), on
the last line of that stretch, where a comment can always go. An existing
``# noqa: X`` there is extended (``# noqa: X, OC101``); any other comment
is kept and the noqa follows it. Running it again adds nothing.

``--report-unused-noqa`` (ruff's RUF100): an ``OC`` code in a ``# noqa``
comment that silences nothing this run would report there.
"""

from __future__ import annotations

import io
import tokenize
from collections.abc import Callable, Iterable, Sequence

from flake8.defaults import NOQA_INLINE_REGEXP

from .findings import Finding
from .noqa import noqa_ranges
from .rules import PARSE_ERROR_CODE, UNUSED_NOQA_CODE


def _tokens(text: str) -> list[tokenize.TokenInfo] | None:
    try:
        return list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return None


def _codes_of(comment: str) -> tuple[int, int, list[str]] | None:
    """Where the codes of a ``# noqa: A, B`` comment are (start, end) and what they are.

    None when the comment has no ``# noqa``; an empty list for a bare one.
    """
    match = NOQA_INLINE_REGEXP.search(comment)
    if match is None:
        return None
    codes = match.group("codes")
    if codes is None:
        return match.end(), match.end(), []
    start = match.start("codes")
    stripped = codes.rstrip(", \t")
    return start, start + len(stripped), [part for part in stripped.replace(",", " ").split() if part]


def add_noqa(text: str, findings: Iterable[Finding]) -> tuple[str, int]:
    """``text`` with a ``# noqa`` for each finding, and how many lines got one (or more codes)."""
    wanted: dict[int, set[str]] = {}
    ranges = noqa_ranges(text)
    for finding in findings:
        if finding.code == PARSE_ERROR_CODE:
            continue
        line = ranges.get(finding.line, (finding.line, finding.line))[1]
        wanted.setdefault(line, set()).add(finding.code)
    if not wanted:
        return text, 0
    tokens = _tokens(text)
    if tokens is None:
        return text, 0
    comments: dict[int, tokenize.TokenInfo] = {}
    ends: dict[int, int] = {}
    for tok in tokens:
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok
        elif tok.type in (tokenize.NL, tokenize.NEWLINE):
            ends.setdefault(tok.start[0], tok.start[1])
    lines = text.splitlines(keepends=True)
    changed = 0
    for number, codes in sorted(wanted.items()):
        if not 0 < number <= len(lines) or number not in ends:
            continue
        row = lines[number - 1]
        comment = comments.get(number)
        if comment is not None:
            start, end = comment.start[1], comment.end[1]
            new_comment = _merged(comment.string, codes)
            if new_comment is None:
                continue
            lines[number - 1] = row[:start] + new_comment + row[end:]
        else:
            end = ends[number]
            lines[number - 1] = row[:end].rstrip(" \t") + f"  # noqa: {', '.join(sorted(codes))}" + row[end:]
        changed += 1
    return "".join(lines), changed


def _merged(comment: str, codes: set[str]) -> str | None:
    """The comment with ``codes`` added to its noqa (or a noqa appended); None: nothing to add."""
    found = _codes_of(comment)
    if found is None:
        return f"{comment.rstrip()}  # noqa: {', '.join(sorted(codes))}"
    _, end, present = found
    if not present:
        return None  # a bare noqa already silences everything on the line
    missing = sorted(code for code in codes if code not in present)
    if not missing:
        return None
    return comment[:end] + ", " + ", ".join(missing) + comment[end:]


def unused_noqa(text: str, findings: Sequence[Finding], selected: Callable[[str], bool]) -> list[Finding]:
    """``OC`` codes in ``# noqa`` comments that no finding in their stretch needs.

    ``findings`` are every finding of the file with noqa not applied;
    codes of rules this run does not check (``selected`` says) are not
    reported: another configuration may need them.
    """
    if "noqa" not in text.lower():
        return []
    tokens = _tokens(text)
    if tokens is None:
        return []
    ranges = noqa_ranges(text)
    unused = []
    for tok in tokens:
        if tok.type != tokenize.COMMENT:
            continue
        found = _codes_of(tok.string)
        if found is None:
            continue
        line = tok.start[0]
        first, last = ranges.get(line, (line, line))
        here = [f.code for f in findings if first <= f.line <= last]
        stale = [
            code
            for code in found[2]
            if code.upper().startswith("OC")
            and selected(code.upper())
            and not any(reported.startswith(code.upper()) for reported in here)
        ]
        if stale:
            unused.append(
                Finding(
                    line=line,
                    column=tok.start[1],
                    code=UNUSED_NOQA_CODE,
                    message=f"unused noqa: nothing here is reported as {', '.join(stale)} - remove it",
                    end_line=line,
                    end_column=tok.end[1],
                    fixable=False,
                )
            )
    return unused
