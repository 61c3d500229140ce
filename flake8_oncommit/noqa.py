"""``# noqa`` for the standalone command, exactly as flake8 reads it.

flake8 filters ``# noqa`` itself for the plugin; ``oncommit-fix`` must give
the same answer, so it reuses flake8's own regular expressions and its rule
that a comment anywhere on a multi-line logical line covers all its lines.
"""

from __future__ import annotations

import io
import tokenize

from flake8.defaults import NOQA_FILE, NOQA_INLINE_REGEXP


def noqa_ranges(text: str) -> dict[int, tuple[int, int]]:
    """Line number -> the lines (first, last) flake8 searches for its ``# noqa``.

    One physical line, except where a token spans lines (a triple-quoted
    string) or a backslash joins them: then every line of that stretch. A
    newline inside brackets ends a stretch too (tokenize's ``NL``). Empty
    when the text does not tokenize.
    """
    count = text.count("\n") + 1
    ranges: dict[int, tuple[int, int]] = {}
    lowest, highest = count + 2, -1
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in (tokenize.ENDMARKER, tokenize.DEDENT):
                continue
            lowest = min(lowest, tok.start[0])
            highest = max(highest, tok.end[0])
            if tok.type in (tokenize.NL, tokenize.NEWLINE):
                for line in range(lowest, highest + 1):
                    ranges[line] = (lowest, highest)
                lowest, highest = count + 2, -1
    except (tokenize.TokenError, SyntaxError):
        return {}
    return ranges


def noqa_line_mapping(text: str) -> dict[int, str]:
    """Line number -> the text searched for ``# noqa`` (flake8's mapping)."""
    lines = text.splitlines(keepends=True)
    return {
        line: "".join(lines[lowest - 1 : highest]) for line, (lowest, highest) in noqa_ranges(text).items()
    }


def is_suppressed(code: str, noqa_text: str) -> bool:
    """flake8's decision for one error code against the text of its line(s)."""
    match = NOQA_INLINE_REGEXP.search(noqa_text)
    if match is None:
        return False
    codes_str = match.groupdict()["codes"]
    if codes_str is None:
        return True
    codes = {part for part in codes_str.replace(",", " ").split() if part}
    return code in codes or code.startswith(tuple(codes))


def file_is_excluded(text: str) -> bool:
    """``# flake8: noqa`` on a line of its own turns the whole file off."""
    return any(NOQA_FILE.match(line) for line in text.splitlines())


class NoqaFilter:
    """Answers "is this finding silenced?" for one file, tokenizing lazily."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.active = "noqa" in text.lower()
        self._mapping: dict[int, str] | None = None
        self._lines = text.splitlines()

    def suppresses(self, code: str, line: int) -> bool:
        if not self.active:
            return False
        if self._mapping is None:
            self._mapping = noqa_line_mapping(self.text)
        noqa_text = self._mapping.get(line)
        if noqa_text is None:
            noqa_text = self._lines[line - 1] if 0 < line <= len(self._lines) else ""
        return is_suppressed(code, noqa_text)
