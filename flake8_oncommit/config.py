"""Settings: one frozen object, whichever front end read them.

flake8 options (``setup.cfg``/``.flake8``/``tox.ini``), ``[tool.flake8-oncommit]``
in ``pyproject.toml`` and ``oncommit-fix`` flags all end up as a
:class:`Config`; the engine reads nothing else. Every key is validated here,
once, so both front ends reject the same mistakes with the same message.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .rules import DEFAULT_SELECT, RULES

STYLES = ("partial", "celery")
ATOMIC_REQUESTS_MODES = ("false", "true", "auto")


class ConfigError(Exception):
    """A bad setting; the message names the key and what is wrong with it."""


@dataclass(frozen=True)
class Config:
    """Everything the analysis and the fixer can be told.

    Dotted names match the import table's qualified names; a configured
    ``myapp.tasks.offload_task`` also matches ``.tasks.offload_task`` reached
    through a relative import.
    """

    select: frozenset[str] = DEFAULT_SELECT
    ignore: frozenset[str] = frozenset()
    #: project functions that send a job (``myapp.tasks.offload_task``)
    enqueue_functions: frozenset[str] = frozenset()
    #: extra method names that send a job (``defer``, ``send_later``)
    enqueue_methods: frozenset[str] = frozenset()
    #: project decorators / context managers that open a transaction
    atomic_wrappers: frozenset[str] = frozenset()
    #: project functions that defer a callable like ``on_commit`` does
    safe_deferrers: frozenset[str] = frozenset()
    #: task decorators or enqueue functions whose delivery waits for the commit
    transactional_queues: frozenset[str] = frozenset()
    #: database aliases (literals or dotted names) that are read replicas
    read_only_databases: frozenset[str] = frozenset()
    style: str = "partial"
    #: "false", "true" or "auto" (resolved to true/false per project)
    atomic_requests: str = "false"
    #: where results and summaries are cached (None: ``.oncommit_cache`` at the
    #: project root); no finding depends on it
    cache_dir: str | None = None

    def selects(self, code: str) -> bool:
        """Whether ``code`` is on (``OC1`` selects every OC1xx code)."""
        return code.startswith(tuple(self.select)) and not code.startswith(tuple(self.ignore))


DEFAULT_CONFIG = Config()


def matches_dotted(qualified: str, configured: frozenset[str]) -> bool:
    """Whether ``qualified`` names one of ``configured``.

    Exact match, or a relative-import spelling (``.tasks.offload``) whose
    components are a suffix of a configured name (``myapp.tasks.offload``).
    """
    if not configured:
        return False
    if qualified in configured:
        return True
    if qualified.startswith("."):
        tail = qualified.lstrip(".")
        return any(name == tail or name.endswith("." + tail) for name in configured)
    return False


# --------------------------------------------------------------------------
# Validation shared by every front end

_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _as_list(key: str, value: object) -> list[str]:
    if isinstance(value, str):
        items = [part.strip() for part in re.split(r"[,\s]+", value)]
    elif isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        items = [item.strip() for item in value]
    else:
        raise ConfigError(f"{key}: expected a list of strings, got {value!r}")
    return [item for item in items if item]


def _dotted_names(key: str, value: object) -> frozenset[str]:
    names = _as_list(key, value)
    for name in names:
        if not _DOTTED.match(name):
            raise ConfigError(f"{key}: {name!r} is not a dotted name like 'myapp.tasks.send_later'")
    return frozenset(names)


def _method_names(key: str, value: object) -> frozenset[str]:
    names = _as_list(key, value)
    for name in names:
        if not _IDENTIFIER.match(name):
            raise ConfigError(f"{key}: {name!r} is not a method name like 'send_later'")
    return frozenset(names)


def _aliases(key: str, value: object) -> frozenset[str]:
    names = _as_list(key, value)
    for name in names:
        if not re.match(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$", name):
            raise ConfigError(f"{key}: {name!r} is not a database alias or dotted name")
    return frozenset(names)


def _codes(key: str, value: object) -> frozenset[str]:
    codes = _as_list(key, value)
    for code in codes:
        if not any(known.startswith(code) for known in RULES) or not code.startswith("OC"):
            raise ConfigError(f"{key}: unknown code {code!r} (known: {', '.join(sorted(RULES))})")
    return frozenset(codes)


def _style(key: str, value: object) -> str:
    if value not in STYLES:
        raise ConfigError(f"{key}: expected one of {', '.join(STYLES)}, got {value!r}")
    return str(value)


def _directory(key: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{key}: expected a directory path, got {value!r}")
    return value.strip()


def _atomic_requests(key: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.strip().lower() in ATOMIC_REQUESTS_MODES:
        return value.strip().lower()
    raise ConfigError(f"{key}: expected true, false or auto, got {value!r}")


#: key (as written in pyproject and, prefixed with ``oncommit-``, in flake8
#: config) -> (Config field, validator, help text)
KEYS = {
    "select": ("select", _codes, "codes or prefixes to report (default: all)"),
    "ignore": ("ignore", _codes, "codes or prefixes not to report"),
    "enqueue-functions": (
        "enqueue_functions",
        _dotted_names,
        "project functions that send a job, e.g. myapp.tasks.offload_task",
    ),
    "enqueue-methods": (
        "enqueue_methods",
        _method_names,
        "extra method names that send a job, e.g. send_later",
    ),
    "atomic-wrappers": (
        "atomic_wrappers",
        _dotted_names,
        "project decorators/context managers that open a transaction, e.g. myapp.db.atomic_write",
    ),
    "safe-deferrers": (
        "safe_deferrers",
        _dotted_names,
        "project functions that already defer their callable until commit",
    ),
    "transactional-queues": (
        "transactional_queues",
        _dotted_names,
        "task decorators, Task base classes or enqueue functions whose delivery already waits for the commit",
    ),
    "read-only-databases": (
        "read_only_databases",
        _aliases,
        "database aliases (or dotted names such as settings.REPLICA_DB) whose atomic blocks cannot write",
    ),
    "style": ("style", _style, "fix style: partial (default) or celery"),
    "atomic-requests": ("atomic_requests", _atomic_requests, "true, false (default) or auto"),
    "cache-dir": (
        "cache_dir",
        _directory,
        "where to cache results and module summaries (default: .oncommit_cache at the project root)",
    ),
}


def _unknown_key(key: str, where: str) -> ConfigError:
    close = difflib.get_close_matches(key, list(KEYS), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ConfigError(f"{where}: unknown key {key!r}{hint}; known keys: {', '.join(KEYS)}")


def config_from_mapping(values: Mapping[str, object], where: str, base: Config = DEFAULT_CONFIG) -> Config:
    """Validate ``values`` (keys as in :data:`KEYS`) on top of ``base``."""
    changes: dict[str, object] = {}
    for key, value in values.items():
        normalized = key.replace("_", "-")
        if normalized not in KEYS:
            raise _unknown_key(key, where)
        field_name, validate, _ = KEYS[normalized]
        changes[field_name] = validate(f"{where}: {key}", value)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# pyproject.toml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on the oldest supported Python
    import tomli as tomllib

PYPROJECT_TABLE = "flake8-oncommit"


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start``."""
    start = Path(os.path.abspath(start))
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        try:
            if candidate.is_file():
                return candidate
        except OSError:
            continue
    return None


def load_pyproject(path: Path, base: Config = DEFAULT_CONFIG) -> Config:
    """``[tool.flake8-oncommit]`` of ``path`` on top of ``base``."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{path}: [tool] must be a table")
    table = tool.get(PYPROJECT_TABLE)
    if table is None:
        return base
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.{PYPROJECT_TABLE}] must be a table")
    config = config_from_mapping(table, f"{path} [tool.{PYPROJECT_TABLE}]", base)
    if config.cache_dir is not None and ("cache-dir" in table or "cache_dir" in table):
        # Relative to the file that says it, as ruff does.
        directory = os.path.join(os.path.dirname(os.path.abspath(path)), os.path.expanduser(config.cache_dir))
        config = dataclasses.replace(config, cache_dir=os.path.normpath(directory))
    return config
