"""flake8-oncommit: find task enqueues that race the database commit, and fix them.

The library API for other tools::

    from flake8_oncommit import check_source, fix_source

    for finding in check_source(text, filename="shop/views.py", project_root="."):
        print(finding.format("shop/views.py"))
    new_text = fix_source(text)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .version import __version__

if TYPE_CHECKING:
    from .config import Config, ConfigError
    from .engine import ParseError
    from .findings import Finding
    from .fix import FixError
    from .index import ProjectIndex

# The engine (libcst) loads on first use: the test-suite guard's pytest
# plugin imports this package at every pytest start and must cost nothing.
_LAZY = {
    "Config": "config",
    "ConfigError": "config",
    "ParseError": "engine",
    "Finding": "findings",
    "FixError": "fix",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "Config",
    "ConfigError",
    "Finding",
    "FixError",
    "ParseError",
    "__version__",
    "check_source",
    "fix_source",
]

_INDEXES: dict[tuple[str, Config], ProjectIndex] = {}


def _index(project_root: str | os.PathLike[str] | None, config: Config) -> ProjectIndex | None:
    if project_root is None:
        return None
    from .index import ProjectIndex

    key = (os.path.abspath(project_root), config)
    if key not in _INDEXES:
        _INDEXES[key] = ProjectIndex(Path(key[0]), config)
    return _INDEXES[key]


def check_source(
    source: str,
    *,
    config: Config | None = None,
    filename: str = "<string>",
    honour_noqa: bool = True,
    project_root: str | os.PathLike[str] | None = None,
) -> list[Finding]:
    """Every finding in ``source`` (text of a Python module), in line order.

    With ``project_root`` (and ``filename`` the module's path), names
    imported from the project's other modules are understood: atomic
    wrappers, tasks and helpers defined there. Raises :class:`ParseError`
    when ``source`` is not parseable Python.
    """
    from .config import Config
    from .engine import check_text

    config = _settled(config or Config(), project_root).for_path(filename)
    index = _index(project_root, config)
    result = check_text(source, config, filename=filename, honour_noqa=honour_noqa, index=index)
    if result.analysis is None:
        _must_parse(source)
    return result.findings


def fix_source(
    source: str,
    *,
    config: Config | None = None,
    filename: str = "<string>",
    project_root: str | os.PathLike[str] | None = None,
) -> str:
    """``source`` with every fixable finding fixed (unchanged when there is none).

    Raises :class:`ParseError` when ``source`` does not parse and
    :class:`FixError` when the rewrite fails verification (it is then
    never returned).
    """
    from .config import Config
    from .fix import fix_text

    config = _settled(config or Config(), project_root).for_path(filename)
    outcome = fix_text(source, config, filename=filename, index=_index(project_root, config))
    if not outcome.changed and not outcome.findings:
        _must_parse(source)
    return outcome.text


def _settled(config: Config, project_root: str | os.PathLike[str] | None) -> Config:
    """With a project, what its settings say (``atomic-requests = auto``, django-q's ORM
    broker), as both front ends do; without one, ``auto`` finds nothing."""
    if project_root is None:
        return config
    from .settings_scan import with_project_settings

    return with_project_settings(config, Path(os.path.abspath(project_root)))[0]


def _must_parse(source: str) -> None:
    """Raise :class:`ParseError` for text that is not Python, even where the pre-check
    found nothing to look for and skipped the parse (the promise of this API)."""
    import ast

    from .engine import parse

    try:
        compile(source, "<string>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        parse(source)  # the engine's own error and position (legacy async repaired)
