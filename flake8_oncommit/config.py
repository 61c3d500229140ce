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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .effects import DEFAULT_EFFECTS, Effect
from .patterns import matches_file
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
    #: the side effects besides jobs to report (OC108 mail, OC109 cache, OC110 http)
    side_effects: frozenset[str] = frozenset(effect.value for effect in DEFAULT_EFFECTS)
    style: str = "partial"
    #: "false", "true" or "auto" (resolved to true/false per project)
    atomic_requests: str = "auto"
    #: where the project's settings turn ATOMIC_REQUESTS on (``shop/settings.py:40``),
    #: found by ``auto``; named in OC106 messages (not a key: the settings say it)
    atomic_requests_origin: str | None = None
    # Which files (see :mod:`.exclusion`). Patterns with a ``/`` are anchored
    # (made absolute) where they were read: the pyproject.toml's directory,
    # or the current directory for flags.
    #: replaces the default excluded names (None: the defaults)
    exclude: tuple[str, ...] | None = None
    extend_exclude: tuple[str, ...] = ()
    #: (pattern, codes) pairs: codes not reported in files the pattern matches
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: skip what git ignores when walking a directory in a work tree
    respect_gitignore: bool = True
    #: apply the exclusions to files named on the command line too (pre-commit)
    force_exclude: bool = False
    #: where results and summaries are cached (None: ``.oncommit_cache`` at the
    #: project root); no finding depends on it
    cache_dir: str | None = None

    def selects(self, code: str) -> bool:
        """Whether ``code`` is on (``OC1`` selects every OC1xx code).

        As in flake8 and ruff, the more specific entry wins: ``select = OC105``
        with ``ignore = OC1`` keeps OC105 on; a tie goes to ``ignore``.
        """
        selected = max((len(prefix) for prefix in self.select if code.startswith(prefix)), default=-1)
        if selected < 0:
            return False
        ignored = max((len(prefix) for prefix in self.ignore if code.startswith(prefix)), default=-1)
        return selected > ignored

    def enables(self, code: str) -> bool:
        """Whether the rule ``code`` runs: selected, and for a side-effect rule, its kind named."""
        rule = RULES.get(code)
        if not self.selects(code):
            return False
        return rule is None or not rule.effects or bool(rule.effects & self.side_effects)

    def for_path(self, path: str) -> Config:
        """This configuration with the ``per-file-ignores`` that match ``path`` applied."""
        if not self.per_file_ignores or path.startswith("<"):
            return self
        codes = tuple(
            code
            for pattern, ignored in self.per_file_ignores
            if matches_file(path, pattern)
            for code in ignored
        )
        if not codes:
            return self
        # After the selection, whatever it says (ruff's rule): a prefix here
        # also removes a code the selection names in full.
        kept = frozenset(code for code in RULES if self.selects(code) and not code.startswith(codes))
        return dataclasses.replace(self, select=kept, ignore=frozenset())


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


def _effects(key: str, value: object) -> frozenset[str]:
    names = _as_list(key, value)
    known = [effect.value for effect in Effect]
    for name in names:
        if name not in known:
            raise ConfigError(f"{key}: unknown side effect {name!r} (known: {', '.join(known)})")
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


def _boolean(key: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    raise ConfigError(f"{key}: expected true or false, got {value!r}")


def _patterns(key: str, value: object) -> tuple[str, ...]:
    """Glob patterns: a name (``migrations``, ``*_pb2.py``) or a path (``shop/legacy/*.py``)."""
    patterns = _as_list(key, value)
    for pattern in patterns:
        if "\x00" in pattern:
            raise ConfigError(f"{key}: {pattern!r} is not a file pattern")
    return tuple(patterns)


def _per_file_ignores(key: str, value: object) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``{"shop/legacy/*.py" = ["OC105"]}`` (TOML), or flake8's ``shop/legacy/*.py:OC105 tests/*:OC``."""
    pairs: list[tuple[str, object]] = []
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, (str, list, tuple)):
        entries = [value] if isinstance(value, str) else list(value)
        for entry in entries:
            if not isinstance(entry, str):
                raise ConfigError(f"{key}: expected 'pattern:CODES' strings or a table, got {entry!r}")
            current: list[str] | None = None
            for token in entry.split():
                if ":" in token:
                    pattern, _, codes = token.rpartition(":")
                    current = [codes] if codes else []
                    pairs.append((pattern, current))
                elif current is not None:
                    current.append(token)
                else:
                    raise ConfigError(f"{key}: {token!r} has no 'pattern:' before it")
            if current is None and entry.strip():
                raise ConfigError(f"{key}: expected 'pattern:CODES', got {entry!r}")
    else:
        raise ConfigError(f"{key}: expected a table of pattern = [codes], got {value!r}")
    result = []
    for pattern, given in pairs:
        if not isinstance(pattern, str) or not pattern.strip():
            raise ConfigError(f"{key}: empty file pattern")
        listed = ",".join(str(code) for code in given) if isinstance(given, list) else given
        result.append((pattern.strip(), tuple(sorted(_codes(f"{key}: {pattern}", listed)))))
    return tuple(result)


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
    "side-effects": (
        "side_effects",
        _effects,
        "side effects besides jobs to report: mail (OC108), cache, cache-writes (OC109), http (OC110); "
        "default: cache",
    ),
    "style": ("style", _style, "fix style: partial (default) or celery"),
    "atomic-requests": (
        "atomic_requests",
        _atomic_requests,
        "report enqueues in views (OC106): auto (default: when the settings turn ATOMIC_REQUESTS on), "
        "true or false",
    ),
    "exclude": (
        "exclude",
        _patterns,
        "file patterns to skip, replacing the default list (.git, virtualenvs, node_modules, build...)",
    ),
    "extend-exclude": ("extend_exclude", _patterns, "file patterns to skip, besides the default list"),
    "per-file-ignores": (
        "per_file_ignores",
        _per_file_ignores,
        "codes not reported in files matching a pattern, e.g. 'shop/legacy/*.py:OC105'",
    ),
    "respect-gitignore": (
        "respect_gitignore",
        _boolean,
        "skip files git ignores when walking a directory (default: true)",
    ),
    "force-exclude": (
        "force_exclude",
        _boolean,
        "apply the exclusions to files named on the command line too, as pre-commit passes them",
    ),
    "cache-dir": (
        "cache_dir",
        _directory,
        "where to cache results and module summaries (default: .oncommit_cache at the project root)",
    ),
}

#: Keys whose patterns are anchored where they are read.
_PATTERN_KEYS = ("exclude", "extend-exclude", "per-file-ignores")


def _unknown_key(key: str, where: str) -> ConfigError:
    close = difflib.get_close_matches(key, list(KEYS), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ConfigError(f"{where}: unknown key {key!r}{hint}; known keys: {', '.join(KEYS)}")


def config_from_mapping(
    values: Mapping[str, object],
    where: str,
    base: Config = DEFAULT_CONFIG,
    *,
    directory: str | os.PathLike[str] | None = None,
) -> Config:
    """Validate ``values`` (keys as in :data:`KEYS`) on top of ``base``.

    File patterns containing a ``/`` are anchored at ``directory`` (default:
    the current directory).
    """
    changes: dict[str, object] = {}
    for key, value in values.items():
        normalized = key.replace("_", "-")
        if normalized not in KEYS:
            raise _unknown_key(key, where)
        field_name, validate, _ = KEYS[normalized]
        checked = validate(f"{where}: {key}", value)
        if normalized in _PATTERN_KEYS:
            checked = _anchored(checked, directory)
        changes[field_name] = checked
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _anchor(pattern: str, directory: str) -> str:
    if "/" not in pattern.rstrip("/"):
        return pattern.rstrip("/")  # a name: matches at any depth
    return os.path.normpath(os.path.join(directory, pattern))


def _anchored(value: object, directory: str | os.PathLike[str] | None) -> object:
    base = os.path.abspath(directory if directory is not None else os.getcwd())
    if isinstance(value, tuple) and value and isinstance(value[0], tuple):
        return tuple((_anchor(pattern, base), codes) for pattern, codes in value)
    assert isinstance(value, tuple)
    return tuple(_anchor(pattern, base) for pattern in value)


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
    config = config_from_mapping(table, f"{path} [tool.{PYPROJECT_TABLE}]", base, directory=path.parent)
    if config.cache_dir is not None and ("cache-dir" in table or "cache_dir" in table):
        # Relative to the file that says it, as ruff does.
        directory = os.path.join(os.path.dirname(os.path.abspath(path)), os.path.expanduser(config.cache_dir))
        config = dataclasses.replace(config, cache_dir=os.path.normpath(directory))
    return config


def last_parts(names: Iterable[str]) -> tuple[str, ...]:
    """``("atomic_write", ...)`` for ``{"myapp.db.atomic_write", ...}``: what a module's text says
    of configured names (for the byte tests; no parser is imported for them)."""
    return tuple(name.rsplit(".", 1)[-1] for name in names if name)
