"""Files on disk: which ones to look at, reading them, and writing them back safely.

A rewrite goes to a temporary file in the same directory, is flushed to
disk, gets the original's permission bits, and then replaces the original
with ``os.replace`` (atomic on POSIX and Windows): an interrupted run leaves
either the old file or the new one, never half of each. Temporary files are
named ``.<name>.oncommit-fix-<random>.tmp`` so a leftover from a killed run
is recognisable and never mistaken for source.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

#: Directories never walked into: VCS data, virtualenvs, caches, builds.
EXCLUDED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".bzr",
        ".tox",
        ".nox",
        ".venv",
        "venv",
        ".direnv",
        "__pycache__",
        "node_modules",
        "build",
        "dist",
        ".eggs",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "site-packages",
        "__pypackages__",
    }
)
TEMP_PREFIX = "."
TEMP_MARKER = ".oncommit-fix-"
TEMP_SUFFIX = ".tmp"


class FileError(Exception):
    """A file that cannot be read or written; the message is one line."""


#: Build output, unless it is a Python package (InvenTree has a Django app named ``build``).
_BUILD_DIRS = frozenset({"build", "dist"})


def is_excluded_dir(path: str, name: str) -> bool:
    """A directory the walk never enters (``path`` is the directory, ``name`` its last part)."""
    if name in _BUILD_DIRS:
        return not os.path.isfile(os.path.join(path, "__init__.py"))
    if name in EXCLUDED_DIRS or name.endswith(".egg-info"):
        return True
    # Any virtualenv, whatever its name.
    return os.path.isfile(os.path.join(path, "pyvenv.cfg"))


class Selection(Protocol):
    """What a run excludes (see :mod:`.exclusion`); without one, the built-in exclusions apply."""

    def start(self, directory: str) -> None: ...

    def skips_dir(self, path: str, name: str) -> bool: ...

    def skips_file(self, path: str, name: str) -> bool: ...

    def skips_explicit(self, path: str) -> bool: ...


def discover(paths: list[str], selection: Selection | None = None) -> Iterator[str]:
    """Python files under ``paths``, as spelled by the caller (relative stays relative).

    Files named explicitly are yielded unless ``selection`` excludes them
    (``force-exclude``); directories are walked without following
    symlinked directories (no loops), skipping excluded directories and
    yielding ``*.py``/``*.pyi`` files.
    """
    seen: set[str] = set()
    for given in paths:
        if os.path.isdir(given):
            if selection is not None:
                selection.start(given)
            for root, dirs, files in os.walk(given, followlinks=False):
                if selection is None:
                    dirs[:] = sorted(d for d in dirs if not is_excluded_dir(os.path.join(root, d), d))
                else:
                    dirs[:] = sorted(d for d in dirs if not selection.skips_dir(os.path.join(root, d), d))
                for name in sorted(files):
                    if name.endswith((".py", ".pyi")) and TEMP_MARKER not in name:
                        path = os.path.join(root, name)
                        if selection is not None and selection.skips_file(path, name):
                            continue
                        key = os.path.normcase(os.path.abspath(path))
                        if key not in seen:
                            seen.add(key)
                            yield path
        else:
            if selection is not None and selection.skips_explicit(given):
                continue
            key = os.path.normcase(os.path.abspath(given))
            if key not in seen:
                seen.add(key)
                yield given


@dataclass(frozen=True)
class Snapshot:
    """A file's bytes and the identity they were read with."""

    data: bytes
    mtime_ns: int
    size: int


def read(path: str) -> Snapshot:
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise FileError("is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise FileError("not a regular file")
        with open(path, "rb") as handle:
            data = handle.read()
    except FileError:
        raise
    except FileNotFoundError:
        raise FileError("no such file") from None
    except PermissionError:
        raise FileError("permission denied") from None
    except OSError as error:
        raise FileError(str(error.strerror or error)) from None
    return Snapshot(data=data, mtime_ns=info.st_mtime_ns, size=info.st_size)


def write_atomic(path: str, data: bytes, original: Snapshot) -> None:
    """Replace ``path`` with ``data`` if it still is what was read.

    A symlink is followed: its target is rewritten and the link kept.
    """
    target = os.path.realpath(path)
    try:
        info = os.stat(target)
    except FileNotFoundError:
        raise FileError("deleted while it was being fixed; not written") from None
    if info.st_mtime_ns != original.mtime_ns or info.st_size != original.size:
        raise FileError("changed while it was being fixed; not written")
    if info.st_nlink > 1:
        raise FileError("has other hard links, which a replace would break; not written")
    # The permission bits, not os.access(): as root, access() says yes to a
    # read-only file, but the owner marked it so for a reason.
    if not info.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(target, os.W_OK):
        raise FileError("cannot write: the file is read-only")
    with _sigint_deferred():
        _replace(target, data, info)


def _replace(target: str, data: bytes, info: os.stat_result) -> None:
    directory, name = os.path.split(target)
    try:
        fd, temp = tempfile.mkstemp(
            prefix=f"{TEMP_PREFIX}{name}{TEMP_MARKER}", suffix=TEMP_SUFFIX, dir=directory or "."
        )
    except OSError as error:
        raise FileError(f"cannot write: {error.strerror or error}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, stat.S_IMODE(info.st_mode))
        _keep_owner(temp, info)
        os.replace(temp, target)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(error, FileError):
            raise
        if isinstance(error, OSError):
            raise FileError(f"cannot write: {error.strerror or error}") from None
        raise


def _keep_owner(temp: str, info: os.stat_result) -> None:
    """The new file gets the old one's owner and group, or is not written."""
    if not hasattr(os, "chown"):  # pragma: no cover - Windows
        return
    current = os.stat(temp)
    if (current.st_uid, current.st_gid) == (info.st_uid, info.st_gid):
        return
    try:
        os.chown(temp, info.st_uid, info.st_gid)
    except PermissionError:
        with contextlib.suppress(PermissionError):
            os.chown(temp, -1, info.st_gid)
        if os.stat(temp).st_uid != info.st_uid:
            raise FileError(f"cannot keep the file's owner (uid {info.st_uid}); not written") from None


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold Ctrl-C until the file is replaced: no half-made temp file is left.

    The write takes milliseconds; a SIGINT arriving meanwhile is remembered
    and raised as KeyboardInterrupt right after it. (A Python-level handler,
    not a signal mask: with other threads alive the kernel may deliver the
    signal to one of them, past any mask of this thread.)
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: received.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        if callable(previous):
            previous(signal.SIGINT, None)
        elif previous != signal.SIG_IGN:
            raise KeyboardInterrupt
