"""``atomic-requests = auto``: does this project run its views in a transaction?

Django wraps each view in ``transaction.atomic`` when a ``DATABASES`` entry
has ``ATOMIC_REQUESTS`` set. Projects spell that many ways: a literal in the
``DATABASES`` dict, a dict merged into it, ``DATABASES["default"]
["ATOMIC_REQUESTS"] = True``, ``dict(ATOMIC_REQUESTS=env.bool(...))``. Any
such setting whose value is not a literal false switches OC106 on. A
top-level ``ATOMIC_REQUESTS = True`` does not: Django ignores it (OC107).
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from .engine import ParseError, parse
from .files import EXCLUDED_DIRS
from .recognize import string_value
from .source import SourceError, decode
from .walk import iter_descendants

KEY = "ATOMIC_REQUESTS"
_ROOT_MARKERS = ("manage.py", ".git", "pyproject.toml", "setup.cfg", "setup.py", "tox.ini")
_SETTINGS_NAME = re.compile(r"settings", re.IGNORECASE)


@dataclass(frozen=True)
class Evidence:
    """Where a project turns ATOMIC_REQUESTS on."""

    path: str
    line: int


def project_root(start: Path) -> Path:
    """The nearest directory at or above ``start`` that looks like a project root."""
    start = Path(os.path.abspath(start))
    if not start.is_dir():
        start = start.parent
    for directory in (start, *start.parents):
        if any((directory / marker).exists() for marker in _ROOT_MARKERS):
            return directory
    return start


def _is_candidate(path: Path, text: str) -> bool:
    """Settings modules only: not tests that override settings."""
    if path.stem.startswith("test") or "tests" in path.parts[:-1]:
        return False
    return bool(_SETTINGS_NAME.search(path.stem)) or "settings" in path.parts[:-1] or "DATABASES" in text


def _is_literal_false(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Name):
        return node.value in ("False", "None")
    if isinstance(node, cst.Integer):
        return node.value == "0"
    if isinstance(node, cst.SimpleString):
        return string_value(node) in ("", "0", "false", "False")
    return False


def _switch_on(module: cst.Module) -> cst.BaseExpression | None:
    """The value that sets ATOMIC_REQUESTS to something not literally false, if any."""
    for node in iter_descendants(module):
        value: cst.BaseExpression | None = None
        if isinstance(node, cst.DictElement) and string_value(node.key) == KEY:
            value = node.value
        elif isinstance(node, cst.Arg) and node.keyword is not None and node.keyword.value == KEY:
            value = node.value
        if value is not None and not _is_literal_false(value):
            return value
        elif isinstance(node, cst.Assign):
            for target in node.targets:
                subscript = target.target
                if (
                    isinstance(subscript, cst.Subscript)
                    and len(subscript.slice) == 1
                    and isinstance(subscript.slice[0].slice, cst.Index)
                    and string_value(subscript.slice[0].slice.value) == KEY
                    and not _is_literal_false(node.value)
                ):
                    return node.value
    return None


def find_atomic_requests(root: Path) -> Evidence | None:
    """Walk the project's settings modules; evidence that ATOMIC_REQUESTS is on, or None."""
    return _find_cached(os.path.abspath(root))


@functools.lru_cache(maxsize=16)
def _find_cached(root: str) -> Evidence | None:
    from .positions import locate

    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in EXCLUDED_DIRS and not d.endswith(".egg-info"))
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = Path(directory, name)
            try:
                data = path.read_bytes()
            except OSError:
                continue
            if KEY.encode() not in data:
                continue
            try:
                text = decode(data).text
                if not _is_candidate(path.relative_to(root), text):
                    continue
                module, _ = parse(text)
            except (SourceError, ParseError, RecursionError):
                continue
            node = _switch_on(module)
            if node is not None:
                line = locate(module, [node]).get(id(node), (1, 0, 1, 0))[0]
                return Evidence(os.path.relpath(path), line)
    return None
