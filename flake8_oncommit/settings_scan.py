"""What the project's settings say: are views atomic, is django-q's queue a table?

``atomic-requests = auto``: does this project run its views in a transaction?

Django wraps each view in ``transaction.atomic`` when a ``DATABASES`` entry
has ``ATOMIC_REQUESTS`` set. Projects spell that many ways: a literal in the
``DATABASES`` dict, a dict merged into it, ``DATABASES["default"]
["ATOMIC_REQUESTS"] = True``, ``dict(ATOMIC_REQUESTS=env.bool(...))``. Any
such setting whose value is not a literal false switches OC106 on. A
top-level ``ATOMIC_REQUESTS = True`` does not: Django ignores it (OC107).

``Q_CLUSTER = {"orm": "default", ...}``: django-q queues its jobs through
the ORM broker, as rows of the database: a job enqueued in a transaction is
seen by the cluster only after the commit, and never after a rollback.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from .config import Config
from .engine import ParseError, parse
from .files import FileError, discover, read
from .libraries import READ_ONLY_ALIAS
from .positions import locate
from .queues.django_q import SENDERS as DJANGO_Q_SENDERS
from .resolution import string_value
from .source import SourceError, decode
from .walk import iter_children, iter_descendants

KEY = "ATOMIC_REQUESTS"
DJANGO_Q_KEY = "Q_CLUSTER"
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
            if isinstance(subscript, cst.Subscript) and _subscript_key(subscript) == KEY:
                out.append(node.value)
                return
    for child in iter_children(node):
        _settings_values(child, out)


def _subscript_key(node: cst.Subscript) -> str | None:
    """``"key"`` in ``x["key"]``, or None."""
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return None
    return string_value(node.slice[0].slice.value)


def _switch_on(module: cst.Module) -> cst.CSTNode | None:
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
    return _scan(os.path.abspath(root)).get(KEY)


def find_djangoq_orm_broker(root: Path) -> Evidence | None:
    """Where the project's settings make django-q use its ORM broker, or None."""
    return _scan(os.path.abspath(root)).get(DJANGO_Q_KEY)


def _orm_broker(module: cst.Module) -> cst.CSTNode | None:
    """The last ``Q_CLUSTER`` dict (or ``Q_CLUSTER["orm"] = ...``) that names an ORM alias."""
    found: cst.CSTNode | None = None
    for node in iter_descendants(module):
        if not isinstance(node, cst.Assign):
            continue
        for target in node.targets:
            name = target.target
            if isinstance(name, cst.Name) and name.value == DJANGO_Q_KEY:
                found = _orm_element(node.value)
            elif (
                isinstance(name, cst.Subscript)
                and isinstance(name.value, cst.Name)
                and name.value.value == DJANGO_Q_KEY
                and _subscript_key(name) == "orm"
            ):
                found = None if _is_literal_false(node.value, {}) else node
    return found


def _orm_element(value: cst.BaseExpression) -> cst.CSTNode | None:
    if isinstance(value, cst.Dict):
        for element in value.elements:
            if isinstance(element, cst.DictElement) and string_value(element.key) == "orm":
                return None if _is_literal_false(element.value, {}) else element
    return None


#: What the scan looks for: the setting's name (in the text), and what in a
#: parsed settings module is the evidence that it is on.
_FINDERS: dict[str, Callable[[cst.Module], cst.CSTNode | None]] = {
    KEY: _switch_on,
    DJANGO_Q_KEY: _orm_broker,
}


@functools.lru_cache(maxsize=16)
def _scan(root: str) -> dict[str, Evidence]:
    """One walk over the project: for each setting, the first settings module that turns it on."""
    found: dict[str, Evidence] = {}
    for name in discover([root]):
        if len(found) == len(_FINDERS):
            break
        if not name.endswith(".py"):
            continue
        path = Path(name)
        try:
            data = read(name).data
        except FileError:
            continue
        wanted = [key for key in _FINDERS if key not in found and key.encode() in data]
        if not wanted:
            continue
        try:
            text = decode(data).text
            if not _is_candidate(path.relative_to(root), text):
                continue
            module, _ = parse(text)
        except (SourceError, ParseError, RecursionError):
            continue
        for key in wanted:
            node = _FINDERS[key](module)
            if node is not None:
                line = locate(module, [node]).get(id(node), (1, 0, 1, 0))[0]
                found[key] = Evidence(os.path.relpath(path), line)
    return found


def with_project_settings(config: Config, root: Path) -> tuple[Config, list[str]]:
    """``config`` completed with what the project's settings say, and notes saying what.

    ``atomic-requests = auto`` becomes true or false; a django-q ORM broker
    makes django-q's senders transactional queues.
    """
    notes = []
    if config.atomic_requests == "auto":
        evidence = find_atomic_requests(root)
        if evidence is not None:
            notes.append(f"ATOMIC_REQUESTS is on ({evidence.path}:{evidence.line}); checking views (OC106)")
        config = dataclasses.replace(
            config,
            atomic_requests="true" if evidence else "false",
            atomic_requests_origin=f"{evidence.path}:{evidence.line}" if evidence else None,
        )
    broker = find_djangoq_orm_broker(root)
    if broker is not None:
        notes.append(
            f"django-q uses its ORM broker ({broker.path}:{broker.line}); its jobs wait for the commit"
        )
        config = dataclasses.replace(
            config, transactional_queues=config.transactional_queues | DJANGO_Q_SENDERS
        )
    return config, notes
