"""Which files a run looks at: ``exclude``, ``extend-exclude``, ``.gitignore``, ``per-file-ignores``.

Patterns follow ruff and flake8. A pattern without a ``/`` is a name glob:
it matches a file or directory of that name at any depth (``migrations``,
``*_pb2.py``). A pattern with a ``/`` is a path glob, anchored where it was
configured (the ``pyproject.toml``'s directory, or the current directory
for a flag) and made absolute when read (:mod:`.config`); ``*`` also
crosses ``/``. A matched directory excludes everything under it.

``.gitignore``: when a walked directory is in a git work tree, git itself
says what it ignores (``git ls-files --others --ignored --exclude-standard
--directory``, one call per work tree, ignored directories collapsed to one
entry): the same answer as ``git status`` gives, with ``.git/info/exclude``
and the global excludes file, and nothing to re-implement. Without git, or
outside a work tree, nothing is ignored that way and the run goes on.
"""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
from collections.abc import Callable, Iterable

from .config import Config
from .files import EXCLUDED_DIRS
from .patterns import components as _components

#: What ``exclude`` replaces: VCS data, virtualenvs, caches, build output.
DEFAULT_EXCLUDE: tuple[str, ...] = (*sorted(EXCLUDED_DIRS), "*.egg-info", ".oncommit_cache")
#: Build output, skipped by default unless it is a Python package (a Django app named ``build``).
_BUILD_DIRS = frozenset({"build", "dist"})

#: git's own variables that would point it at another repository than the walked one
#: (set inside git hooks); the others (config, ssh, paths) are kept.
_GIT_LOCATION = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_PREFIX",
    "GIT_NAMESPACE",
)


class _Globs:
    """Several patterns as one compiled test: an absolute pattern globs the whole path, any
    other the name (``fnmatch`` rules, case folded where the file system folds it).

    A walk asks about every file and directory of the tree: one regular
    expression per kind of pattern, not an ``fnmatch`` per pattern and path.
    """

    def __init__(self, patterns: Iterable[str]) -> None:
        patterns = list(patterns)  # read twice
        by_name = [pattern for pattern in patterns if not os.path.isabs(pattern)]
        by_path = [pattern for pattern in patterns if os.path.isabs(pattern)]
        self._name = _any_of(by_name)
        self._path = _any_of(by_path)

    def match(self, path: str, name: str) -> bool:
        if self._name is not None and self._name(os.path.normcase(name)):
            return True
        return self._path is not None and self._path(os.path.normcase(os.path.abspath(path))) is not None


def _any_of(patterns: list[str]) -> Callable[[str], re.Match[str] | None] | None:
    if not patterns:
        return None
    return re.compile("|".join(fnmatch.translate(os.path.normcase(pattern)) for pattern in patterns)).match


def git_ignored(directory: str) -> frozenset[str]:
    """Absolute paths under ``directory`` that git ignores (directories collapsed), or none.

    Empty when git is missing, fails, or ``directory`` is not in a work tree.
    """
    if not _in_work_tree(directory):
        return frozenset()
    env = {key: value for key, value in os.environ.items() if key not in _GIT_LOCATION}
    try:
        proc = subprocess.run(
            ["git", "ls-files", "--others", "--ignored", "--exclude-standard", "--directory", "-z"],
            cwd=directory,
            capture_output=True,
            env=env,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    if proc.returncode != 0:
        return frozenset()
    top = os.path.abspath(directory)
    found = set()
    for entry in proc.stdout.split(b"\0"):
        if entry:
            path = os.path.normpath(os.path.join(top, os.fsdecode(entry)))
            if path != top:  # the walked directory itself was asked for by name
                found.add(os.path.normcase(path))
    return frozenset(found)


def _in_work_tree(directory: str) -> bool:
    """A ``.git`` (directory, or file of a worktree/submodule) at or above ``directory``."""
    current = os.path.abspath(directory)
    while True:
        if os.path.exists(os.path.join(current, ".git")):
            return True
        parent = os.path.dirname(current)
        if parent == current:
            return False
        current = parent


class Selection:
    """The walk's questions about one run's configuration: skip this directory, this file?"""

    def __init__(self, config: Config) -> None:
        self.defaults = config.exclude is None
        self.patterns = (
            DEFAULT_EXCLUDE if config.exclude is None else config.exclude
        ) + config.extend_exclude
        # Django apps named ``build`` are kept under the default patterns: those two are asked apart.
        special = _BUILD_DIRS if self.defaults else frozenset()
        self._globs = _Globs(pattern for pattern in self.patterns if pattern not in special)
        self._build = _Globs(pattern for pattern in self.patterns if pattern in special)
        self.respect_gitignore = config.respect_gitignore
        self.force_exclude = config.force_exclude
        self._ignored: set[str] = set()
        self._asked: set[str] = set()

    def _excluded(self, path: str, name: str, is_dir: bool) -> bool:
        if self._globs.match(path, name):
            return True
        if self._build.match(path, name):
            package = is_dir and os.path.isfile(os.path.join(path, "__init__.py"))
            if not package:
                return True
        # Any virtualenv, whatever its name: never the project's code.
        return is_dir and os.path.isfile(os.path.join(path, "pyvenv.cfg"))

    def start(self, directory: str) -> None:
        """Called for each directory walked from: ask git once per work tree."""
        if not self.respect_gitignore:
            return
        key = os.path.normcase(os.path.abspath(directory))
        if key not in self._asked:
            self._asked.add(key)
            self._ignored |= git_ignored(directory)

    def skips_dir(self, path: str, name: str) -> bool:
        if self._excluded(path, name, is_dir=True) or self._gitignored(path):
            return True
        if self.respect_gitignore and os.path.exists(os.path.join(path, ".git")):
            self.start(path)  # a nested repository has its own .gitignore
        return False

    def skips_file(self, path: str, name: str) -> bool:
        return self._excluded(path, name, is_dir=False) or self._gitignored(path)

    def skips_explicit(self, path: str) -> bool:
        """A file named on the command line: only with ``force-exclude``."""
        if not self.force_exclude:
            return False
        components = _components(os.path.abspath(path))
        return any(
            self._excluded(absolute, name, is_dir=index < len(components) - 1)
            for index, (absolute, name) in enumerate(components)
        )

    def _gitignored(self, path: str) -> bool:
        return bool(self._ignored) and os.path.normcase(os.path.abspath(path)) in self._ignored


def excluded_by_user(path: str, config: Config) -> bool:
    """Whether ``exclude``/``extend-exclude`` as the user wrote them match ``path``.

    For the flake8 plugin, where flake8 chose the files with its own
    exclusions: only the patterns the team configured for this tool apply.
    """
    patterns = (config.exclude or ()) + config.extend_exclude
    if not patterns:
        return False
    components = _components(os.path.abspath(path))
    globs = _Globs(patterns)
    return any(globs.match(absolute, name) for absolute, name in components)
