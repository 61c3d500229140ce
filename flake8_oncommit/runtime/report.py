"""Run-time findings: where a job was sent, where the open transaction began, and the report.

Frames are read only when a finding is made (a send while a block is
open), never on the fast path. Stacks leave out the test runner's and the
task library's own frames, so what remains is the project's code path.
"""

from __future__ import annotations

import inspect
import linecache
import os
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

#: Frames of these modules are plumbing, not the code path: left out of stacks.
NOISE_MODULES = (
    "_pytest",
    "pytest",
    "pluggy",
    "pytest_django",
    "unittest",
    "django.test",
    "django.core.handlers",
    "django.core.management",
    "django.utils.deprecation",
    "asgiref",
    "contextlib",
    "functools",
    "threading",
    "runpy",
    "flake8_oncommit.runtime",
)

#: Innermost frames kept in a printed stack.
STACK_LIMIT = 12


@dataclass(frozen=True)
class Location:
    """A line of code; ``noqa_lines`` are the lines whose ``# noqa`` covers it."""

    filename: str
    line: int
    function: str
    noqa_lines: tuple[int, ...] = ()

    def display(self, root: Path | None) -> str:
        return f"{display_path(self.filename, root)}:{self.line} in {self.function}"

    def to_json(self, root: Path | None) -> dict[str, Any]:
        return {"path": display_path(self.filename, root), "line": self.line, "function": self.function}


def in_modules(frame: FrameType, prefixes: Iterable[str]) -> bool:
    """Whether the frame's module is one of ``prefixes`` or inside one."""
    name = frame.f_globals.get("__name__", "")
    if not isinstance(name, str):
        return False
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def frame_location(frame: FrameType, line: int | None = None) -> Location:
    line = frame.f_lineno if line is None else line
    return Location(frame.f_code.co_filename, line, frame.f_code.co_name, (line,))


def definition_location(obj: Any) -> Location | None:
    """Where a function (decorators included) or a class is defined."""
    target = inspect.unwrap(obj) if callable(obj) and not inspect.isclass(obj) else obj
    code = getattr(target, "__code__", None)
    if code is not None:
        first = code.co_firstlineno
        return Location(code.co_filename, first, target.__qualname__, _header_lines(code.co_filename, first))
    if inspect.isclass(target):
        try:
            filename = inspect.getsourcefile(target) or inspect.getfile(target)
            _, first = inspect.getsourcelines(target)
        except (OSError, TypeError):
            return None
        return Location(filename, first, target.__qualname__, _header_lines(filename, first))
    return None


def _header_lines(filename: str, first: int) -> tuple[int, ...]:
    """From the first decorator line down to the ``def``/``class`` line."""
    lines = linecache.getlines(filename)
    for number in range(first, min(first + 30, len(lines)) + 1):
        text = lines[number - 1].lstrip()
        if text.startswith(("def ", "async def ", "class ")):
            return tuple(range(first, number + 1))
    return (first,)


def _is_decorator_frame(frame: FrameType) -> bool:
    """``contextlib.ContextDecorator``'s wrapper: ``@transaction.atomic`` on a function."""
    return in_modules(frame, ("contextlib",)) and "func" in frame.f_code.co_freevars


def block_entry(frame: FrameType, line: int) -> tuple[Location, FrameType | None]:
    """Where a block was entered, and the frame the rest of its stack starts from.

    For ``@transaction.atomic`` the entering frame is contextlib's wrapper:
    the location is the decorated function, the stack goes on at its caller.
    """
    if _is_decorator_frame(frame):
        func = frame.f_locals.get("func")
        location = definition_location(func) if func is not None else None
        if location is not None:
            return location, frame.f_back
    return frame_location(frame, line), frame.f_back


def stack(
    innermost: Location | None, outer: FrameType | None, skip: tuple[str, ...] = ()
) -> tuple[Location, ...]:
    """``innermost`` plus the frames from ``outer`` outwards, outermost first, plumbing left out."""
    frames: list[Location] = [] if innermost is None else [innermost]
    frame = outer
    while frame is not None:
        if not in_modules(frame, NOISE_MODULES + skip) and not _installed_main(frame):
            frames.append(frame_location(frame))
        frame = frame.f_back
    frames.reverse()
    return tuple(frames[-STACK_LIMIT:])


def _installed_main(frame: FrameType) -> bool:
    """``python -m pytest``: the ``__main__`` of an installed tool."""
    return frame.f_globals.get("__name__") == "__main__" and display_path(
        frame.f_code.co_filename, None
    ).startswith("<")


@dataclass
class RaceFinding:
    """One distinct race: a send site and the block that was open (counted, first test named)."""

    code: str
    message: str
    library: str
    send: Location
    block: Location
    #: "atomic block on database 'default'" or the request it belongs to
    block_description: str
    send_stack: tuple[Location, ...]
    block_stack: tuple[Location, ...]
    first_seen_in: str | None
    count: int = 1
    tests: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, int, str, int]:
        return finding_key(self.code, self.send, self.block)

    def format(self, root: Path | None) -> str:
        """``path:line: CODE message`` and the two locations, with their stacks."""
        lines = [
            f"{display_path(self.send.filename, root)}:{self.send.line}: {self.code} {self.message}",
            f"    sent at        {self.send.display(root)}",
            f"    block entered  {self.block.display(root)} ({self.block_description})",
        ]
        seen = f"    seen {self.count} time{'s' if self.count != 1 else ''}"
        if self.first_seen_in:
            seen += f", first in {self.first_seen_in}"
        lines.append(seen)
        for title, frames in (("send stack", self.send_stack), ("block stack", self.block_stack)):
            lines.append(f"    {title} (most recent call last):")
            lines.extend(f"      {frame.display(root)}" for frame in frames)
        return "\n".join(lines)

    def to_json(self, root: Path | None) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "library": self.library,
            "send": self.send.to_json(root),
            "block": self.block.to_json(root),
            "block_description": self.block_description,
            "send_stack": [frame.to_json(root) for frame in self.send_stack],
            "block_stack": [frame.to_json(root) for frame in self.block_stack],
            "count": self.count,
            "first_seen_in": self.first_seen_in,
            "tests": list(self.tests),
        }


def finding_key(code: str, send: Location, block: Location) -> tuple[str, str, int, str, int]:
    """Distinct races: the same send site under the same block is one finding."""
    return (code, send.filename, send.line, block.filename, block.line)


def format_report(findings: list[RaceFinding], root: Path | None, sends: int, libraries: list[str]) -> str:
    """The end-of-run report, grouped by send site (the code path)."""
    watched = ", ".join(libraries) if libraries else "none imported"
    if not findings:
        return (
            f"flake8-oncommit guard: no job was sent while a transaction was open "
            f"({sends} send{'s' if sends != 1 else ''} watched; libraries: {watched})"
        )
    total = sum(finding.count for finding in findings)
    header = (
        f"flake8-oncommit guard: {len(findings)} distinct race{'s' if len(findings) != 1 else ''} "
        f"({total} of {sends} sends were made while a transaction was open; libraries: {watched})"
    )
    ordered = sorted(findings, key=lambda f: (f.send.filename, f.send.line, f.block.filename, f.block.line))
    return "\n\n".join([header, *(finding.format(root) for finding in ordered)])


_PREFIXES: list[tuple[str, str]] | None = None


def _library_prefixes() -> list[tuple[str, str]]:
    global _PREFIXES
    if _PREFIXES is None:
        paths = sysconfig.get_paths()
        labels = (("purelib", "site-packages"), ("platlib", "site-packages"), ("stdlib", "stdlib"))
        found = {
            (os.path.normcase(os.path.abspath(paths[key])) + os.sep, label)
            for key, label in labels
            if key in paths
        }
        _PREFIXES = sorted(found, key=lambda item: -len(item[0]))
    return _PREFIXES


def display_path(filename: str, root: Path | None) -> str:
    """``<site-packages>/...`` for installed code, else relative to ``root`` when under it."""
    absolute = os.path.abspath(filename)
    normalized = os.path.normcase(absolute)
    for prefix, label in _library_prefixes():
        if normalized.startswith(prefix):
            return f"<{label}>/{absolute[len(prefix) :]}"
    if root is not None:
        try:
            relative = os.path.relpath(absolute, root)
        except ValueError:
            relative = absolute
        if not relative.startswith(os.pardir):
            return relative
    return filename
