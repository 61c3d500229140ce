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
from .files import FileError, discover, read
from .libraries import READ_ONLY_ALIAS
from .positions import locate
from .resolution import string_value
from .source import SourceError, decode
from .walk import iter_children

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


def _is_literal_false(node: cst.BaseExpression, constants: dict[str, cst.BaseExpression]) -> bool:
    """A literal false, a module constant holding one, or a lookup defaulting to one.

    ``env.bool("ATOMIC", default=False)`` and ``config("ATOMIC", False, cast=bool)``
    are off unless the environment says otherwise: treated as false.
    """
    if isinstance(node, cst.Name):
        if node.value in ("False", "None"):
            return True
        constant = constants.get(node.value)
        return constant is not None and constant is not node and _is_literal_false(constant, {})
    if isinstance(node, cst.Integer):
        return node.value == "0"
    if isinstance(node, cst.SimpleString):
        return string_value(node) in ("", "0", "false", "False")
    if isinstance(node, cst.Call):
        keywords = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
        default = keywords.get("default")
        positional = [a.value for a in node.args if a.keyword is None and not a.star]
        if default is None and len(positional) >= 2:
            default = positional[1]
        return default is not None and _is_literal_false(default, constants)
    return False


def _settings_values(node: cst.CSTNode, out: list[cst.BaseExpression]) -> None:
    """Every value given to ATOMIC_REQUESTS under ``node``, in source order.

    Entries of a read-replica alias (``"replica": {...}``) are skipped: a
    transaction there cannot write.
    """
    if isinstance(node, cst.DictElement):
        key = string_value(node.key)
        if key == KEY:
            out.append(node.value)
            return
        if key is not None and READ_ONLY_ALIAS.search(key):
            return
    elif isinstance(node, cst.Arg) and node.keyword is not None and node.keyword.value == KEY:
        out.append(node.value)
        return
    elif isinstance(node, cst.Assign):
        for target in node.targets:
            subscript = target.target
            if (
                isinstance(subscript, cst.Subscript)
                and len(subscript.slice) == 1
                and isinstance(subscript.slice[0].slice, cst.Index)
                and string_value(subscript.slice[0].slice.value) == KEY
            ):
                out.append(node.value)
                return
    for child in iter_children(node):
        _settings_values(child, out)


def _switch_on(module: cst.Module) -> cst.BaseExpression | None:
    """The value that leaves ATOMIC_REQUESTS on in this module, if any.

    The last setting in the file wins (a later ``... = False`` turns it off).
    """
    constants: dict[str, cst.BaseExpression] = {}
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Assign) and len(small.targets) == 1:
                    target = small.targets[0].target
                    if isinstance(target, cst.Name):
                        constants[target.value] = small.value
    values: list[cst.BaseExpression] = []
    _settings_values(module, values)
    if not values or _is_literal_false(values[-1], constants):
        return None
    return values[-1]


def find_atomic_requests(root: Path) -> Evidence | None:
    """Walk the project's settings modules; evidence that ATOMIC_REQUESTS is on, or None."""
    return _find_cached(os.path.abspath(root))


@functools.lru_cache(maxsize=16)
def _find_cached(root: str) -> Evidence | None:
    for name in discover([root]):
        if not name.endswith(".py"):
            continue
        path = Path(name)
        try:
            data = read(name).data
        except FileError:
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
