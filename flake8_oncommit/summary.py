"""What a run did, told at its end: files changed, findings left by code, files that failed.

``oncommit-fix`` prints, on stderr, one line per file it changed (``fixed
shop/views.py (2)``, as black and ruff do) and a summary (``3 fixed in 2
files; 1 left to fix by hand: OC105 x1; 1 file could not be parsed``).
Files that could not be read or parsed are counted apart from the findings
left to fix by hand: they were not checked at all.

pre-commit runs a hook once per batch of files (several processes at once
unless the hook is serial) and shows their output one after the other.
Each batch then reports only what it did: a batch with nothing to say says
nothing, and the summary does not count the files of one batch as if they
were the whole run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .findings import Finding
from .output import Located
from .rules import PARSE_ERROR_CODE, RULES, UNUSED_NOQA_CODE
from .terminal import PLAIN, Style


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def is_unreadable(finding: Finding) -> bool:
    return finding.code == PARSE_ERROR_CODE and finding.message.startswith("cannot read")


def is_unparsable(finding: Finding) -> bool:
    return finding.code == PARSE_ERROR_CODE and not finding.message.startswith("cannot read")


@dataclass
class RunSummary:
    """Counts gathered file by file."""

    mode: str
    files: int = 0
    #: (path, fixes, noqa comments added) of each file changed (or that would change, with --diff)
    changed: list[tuple[str, int, int]] = field(default_factory=list)
    fixed: Counter[str] = field(default_factory=Counter)
    left: Counter[str] = field(default_factory=Counter)
    unreadable: int = 0
    unparsable: int = 0
    #: fixes computed but not written (verification or write failed)
    failed: int = 0
    noqa_added: int = 0
    noqa_files: int = 0

    def add(self, located: list[Located]) -> None:
        for item in located:
            finding = item.finding
            if is_unreadable(finding):
                self.unreadable += 1
            elif is_unparsable(finding):
                self.unparsable += 1
            elif item.fixed:
                self.fixed[finding.code] += 1
            else:
                self.left[finding.code] += 1

    @property
    def anything(self) -> bool:
        return bool(
            self.changed or self.left or self.unreadable or self.unparsable or self.failed or self.noqa_added
        )

    def changed_lines(self, style: Style = PLAIN) -> list[str]:
        """``fixed shop/views.py (2)`` per file (``would fix`` with --diff), and the noqa comments added."""
        diff = self.mode == "diff"
        lines = []
        for path, fixed, noqa in self.changed:
            if fixed:
                line = f"{style.paint('would fix' if diff else 'fixed', 'green')} {path} ({fixed})"
                if noqa:
                    line += f", {_plural(noqa, 'noqa comment')}"
                lines.append(line)
            elif noqa:
                verb = "would add" if diff else "added"
                lines.append(f"{style.paint(verb, 'yellow')} {_plural(noqa, 'noqa comment')} to {path}")
        return lines

    def line(self, *, batch: bool = False, style: Style = PLAIN) -> str | None:
        """The summary, or None when a pre-commit batch has nothing to say."""
        if batch and not self.anything:
            return None
        parts = []
        fixed = sum(self.fixed.values())
        files_changed = sum(1 for _, count, _ in self.changed if count)
        if fixed:
            verb = "would be fixed" if self.mode == "diff" else "fixed"
            parts.append(style.paint(f"{fixed} {verb} in {_plural(files_changed, 'file')}", "green"))
        if self.noqa_added:
            verb = "would be added" if self.mode == "diff" else "added"
            parts.append(
                f"{_plural(self.noqa_added, 'noqa comment')} {verb} in {_plural(self.noqa_files, 'file')}"
            )
        left = sum(self.left.values())
        if left:
            label = "found" if self.mode == "check" else "left to fix by hand"
            by_code = ", ".join(f"{code} x{count}" for code, count in sorted(self.left.items()))
            parts.append(style.paint(f"{left} {label}", "bold", "red") + f" ({by_code})")
        if self.unparsable:
            parts.append(style.paint(f"{_plural(self.unparsable, 'file')} could not be parsed", "yellow"))
        if self.unreadable:
            parts.append(style.paint(f"{_plural(self.unreadable, 'file')} could not be read", "yellow"))
        if self.failed:
            parts.append(style.paint(f"{_plural(self.failed, 'file')} not written (see above)", "yellow"))
        if not batch:
            checked = f"{_plural(self.files, 'file')} checked"
            if not parts:
                return f"{checked}, nothing found"
            parts.append(checked)
        return "; ".join(parts)

    def statistics(self) -> list[str]:
        """flake8's ``--statistics``: per code, how many, and the rule's name (and how many were fixed)."""
        lines = []
        for code in sorted(set(self.left) | set(self.fixed)):
            total = self.left[code] + self.fixed[code]
            name = RULES[code].name if code in RULES else "unused-noqa" if code == UNUSED_NOQA_CODE else ""
            fixed = self.fixed[code]
            note = f" ({fixed} fixed)" if fixed else ""
            lines.append(f"{total:<5} {code} {name}{note}")
        if self.unparsable or self.unreadable:
            lines.append(f"{self.unparsable + self.unreadable:<5} {PARSE_ERROR_CODE} cannot-read-or-parse")
        return lines
