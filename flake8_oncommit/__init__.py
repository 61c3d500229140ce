"""flake8-oncommit: find task enqueues that race the database commit, and fix them.

The library API for other tools::

    from flake8_oncommit import check_source, fix_source

    for finding in check_source(text, filename="shop/views.py", project_root="."):
        print(finding.format("shop/views.py"))
    new_text = fix_source(text)

With ``project_root``, each call reads the project's modules and settings
as they are on disk now (an edited helper module is seen by the next call).
Nothing is written into the project unless ``cache_dir`` is given: then
module summaries and findings are kept there and reused while the files
they were computed from are unchanged, which makes repeated calls cheap.

Importing this package does not import the parser (libcst): the test-suite
guard's pytest plugin imports it at every pytest start and must cost nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from .version import __version__

if TYPE_CHECKING:
    from .config import Config, ConfigError
    from .errors import ParseError
    from .findings import Finding
    from .fix import FixError
    from .project import Project

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

PathLike = Union[str, "os.PathLike[str]"]

# Loaded on first use.
_LAZY = {
    "Config": "config",
    "ConfigError": "config",
    "ParseError": "errors",
    "Finding": "findings",
    "FixError": "fix",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def _project(project_root: PathLike | None, config: Config, cache_dir: PathLike | None) -> Project | None:
    """A project opened for this call only: its modules and settings are read as they are now.

    Its settings complete ``config`` as both front ends do (``atomic-requests
    = auto``, django-q's ORM broker).
    """
    if project_root is None:
        return None
    from .project import open_project

    cache = Path(os.path.abspath(cache_dir)) if cache_dir is not None else None
    project, _ = open_project(Path(os.path.abspath(project_root)), config, cache_dir=cache)
    return project


def check_source(
    source: str,
    *,
    config: Config | None = None,
    filename: str = "<string>",
    honour_noqa: bool = True,
    project_root: PathLike | None = None,
    cache_dir: PathLike | None = None,
) -> list[Finding]:
    """Every finding in ``source`` (text of a Python module), in line order.

    With ``project_root`` (and ``filename`` the module's path), names
    imported from the project's other modules are understood: atomic
    wrappers, tasks and helpers defined there. ``cache_dir`` keeps what was
    learnt about the project there, for the next calls (nothing is written
    without it). Raises :class:`ParseError` when ``source`` is not
    parseable Python.
    """
    from .config import Config

    config = config or Config()
    project = _project(project_root, config, cache_dir)
    if project is None:
        from .engine import check_text

        findings = check_text(
            source, config.for_path(filename), filename=filename, honour_noqa=honour_noqa
        ).findings
    else:
        findings = project.findings(
            source, filename, honour_noqa=honour_noqa, config=project.config.for_path(filename)
        )
    if not findings:
        _must_parse(source)
    return findings


def fix_source(
    source: str,
    *,
    config: Config | None = None,
    filename: str = "<string>",
    project_root: PathLike | None = None,
    cache_dir: PathLike | None = None,
) -> str:
    """``source`` with every fixable finding fixed (unchanged when there is none).

    Raises :class:`ParseError` when ``source`` does not parse and
    :class:`FixError` when the rewrite fails verification (it is then
    never returned).
    """
    from .config import Config
    from .fix import fix_text

    config = config or Config()
    project = _project(project_root, config, cache_dir)
    if project is not None:
        config = project.config
    index = project.index if project is not None else None
    outcome = fix_text(source, config.for_path(filename), filename=filename, index=index)
    if not outcome.changed and not outcome.findings:
        _must_parse(source)
    return outcome.text


def _must_parse(source: str) -> None:
    """Raise :class:`ParseError` for text that is not Python, even where the pre-check
    found nothing to look for and skipped the parse (the promise of this API)."""
    import ast

    try:
        compile(source, "<string>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        from .parsing import parse

        parse(source)  # the engine's own error and position (legacy async repaired)
