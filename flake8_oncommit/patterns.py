"""Path patterns as ``exclude`` and ``per-file-ignores`` write them: names and paths.

Kept apart (and light) so that :mod:`.config` can apply ``per-file-ignores``
and :mod:`.exclusion` can walk with the same rule, neither importing the other.
"""

from __future__ import annotations

import fnmatch
import os


def components(absolute: str) -> list[tuple[str, str]]:
    """(absolute path, name) of ``absolute`` and of its directories below the current one.

    Names above the current directory (``/home/me/build/project``) never
    exclude anything: only what the run was pointed at counts.
    """
    base = os.path.abspath(os.getcwd())
    try:
        relative = os.path.relpath(absolute, base)
    except ValueError:  # another drive (Windows)
        relative = os.path.basename(absolute)
    if relative.startswith(os.pardir):
        return [(absolute, os.path.basename(absolute))]
    parts = [part for part in relative.split(os.sep) if part not in ("", os.curdir)]
    found = []
    current = base
    for part in parts:
        current = os.path.join(current, part)
        found.append((current, part))
    return found


def matches_file(path: str, pattern: str) -> bool:
    """Whether ``path`` falls under ``pattern`` (for ``per-file-ignores``).

    A name pattern matches the file's name or one of its directories (below
    the current directory); a path pattern matches the file or a directory
    above it.
    """
    absolute = os.path.abspath(path)
    if os.path.isabs(pattern):
        current = absolute
        while True:
            if fnmatch.fnmatch(current, pattern):
                return True
            parent = os.path.dirname(current)
            if parent == current:
                return False
            current = parent
    return any(fnmatch.fnmatch(name, pattern) for _, name in components(absolute))
