"""flake8-oncommit: find task enqueues that race the database commit, and fix them.

The library API for other tools::

    from flake8_oncommit import check_source, fix_source

    for finding in check_source(text, filename="shop/views.py", project_root="."):
        print(finding.format("shop/views.py"))
    new_text = fix_source(text)

With ``project_root``, each call reads the project's modules as they are
on disk now (an edited helper module is seen by the next call). Nothing is
written into the project unless ``cache_dir`` is given: then module
summaries and findings are kept there and reused while the files they were
computed from are unchanged, which makes repeated calls cheap.

Importing this package does not import the parser (libcst): front ends that
answer from the cache start quickly.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from .config import Config, ConfigError
from .errors import ParseError
from .findings import Finding
from .version import __version__

if TYPE_CHECKING:
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


def __getattr__(name: str) -> Any:
    if name == "FixError":  # defined with the fixer, which imports the parser
        from .fix import FixError

        return FixError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _project(project_root: PathLike | None, config: Config, cache_dir: PathLike | None) -> Project | None:
    """A project opened for this call only: its modules are read as they are now."""
    if project_root is None:
        return None
    from .cache import Store
    from .project import Project

    store = Store(Path(os.path.abspath(cache_dir))) if cache_dir is not None else None
    return Project(Path(os.path.abspath(project_root)), config, store=store)


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
    config = config or Config()
    project = _project(project_root, config, cache_dir)
    if project is None:
        from .engine import check_text

        return check_text(source, config, filename=filename, honour_noqa=honour_noqa).findings
    return project.findings(source, filename, honour_noqa=honour_noqa)


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
    from .fix import fix_text

    config = config or Config()
    project = _project(project_root, config, cache_dir)
    index = project.index if project is not None else None
    return fix_text(source, config, filename=filename, index=index).text
