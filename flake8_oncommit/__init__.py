"""flake8-oncommit: find task enqueues that race the database commit, and fix them.

The library API for other tools::

    from flake8_oncommit import check_source, fix_source

    for finding in check_source(text):
        print(finding.format("views.py"))
    new_text = fix_source(text)
"""

from __future__ import annotations

__version__ = "0.1.0"

from .config import Config, ConfigError
from .engine import ParseError, check_text
from .findings import Finding
from .fix import FixError, fix_text

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


def check_source(
    source: str,
    *,
    config: Config | None = None,
    filename: str = "<string>",
    honour_noqa: bool = True,
) -> list[Finding]:
    """Every finding in ``source`` (text of a Python module), in line order.

    Raises :class:`ParseError` when ``source`` is not parseable Python.
    """
    return check_text(source, config or Config(), filename=filename, honour_noqa=honour_noqa).findings


def fix_source(
    source: str,
    *,
    config: Config | None = None,
    filename: str = "<string>",
) -> str:
    """``source`` with every fixable finding fixed (unchanged when there is none).

    Raises :class:`ParseError` when ``source`` does not parse and
    :class:`FixError` when the rewrite fails verification (it is then
    never returned).
    """
    return fix_text(source, config or Config(), filename=filename).text
