"""Where results and module summaries are kept between runs, and how they are keyed.

Conventions are ruff's: a ``.oncommit_cache/`` directory at the project
root holding a ``.gitignore`` (``*``) and a ``CACHEDIR.TAG``; moved with
``--cache-dir``, the ``ONCOMMIT_CACHE_DIR`` environment variable or the
``cache-dir`` key (in that order); ``--no-cache`` (or
``ONCOMMIT_NO_CACHE=1``) turns it off. A directory that is not a project
(no root marker: site-packages, a downloaded tree) gets no cache unless one
is asked for. A cache that cannot be written (read-only tree, full disk) is
not an error: the run goes on without keeping anything.

Layout, under the cache directory::

    scan.json                   every project file: stamp, content hash, what its bytes mention
    <key>/summaries/<id>.json   one module's summary (the project index)
    <key>/results/<id>.json     one file's findings
    <key>/run.json              the pre-check's outcome per file, with the wrapper names it used

``<key>`` is a digest of everything a result depends on besides the files:
the tool's version, Python's and libcst's versions, the summary format and
the configuration. A stale entry is never used: each one carries the
stamps and hashes it was computed from (see :mod:`.index` and :mod:`.project`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import sys
from pathlib import Path

from .config import Config
from .summaries import SUMMARY_FORMAT
from .version import __version__

CACHE_DIR = ".oncommit_cache"
ENV_CACHE_DIR = "ONCOMMIT_CACHE_DIR"
ENV_NO_CACHE = "ONCOMMIT_NO_CACHE"
#: What marks a directory as a project root (see :func:`.settings_scan.project_root`).
ROOT_MARKERS = ("manage.py", ".git", "pyproject.toml", "setup.cfg", "setup.py", "tox.ini")
#: Bumped when the layout or an entry's shape changes.
CACHE_FORMAT = 1
#: Configuration fields that do not change any result.
_NOT_IN_KEY = frozenset({"cache_dir"})

_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by flake8-oncommit.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)


def is_project(root: Path) -> bool:
    """Whether ``root`` carries one of the markers of a project root."""
    return any((root / marker).exists() for marker in ROOT_MARKERS)


def cache_directory(
    root: Path, *, flag: str | None = None, no_cache: bool = False, config: Config | None = None
) -> Path | None:
    """The cache directory for a run on ``root``, or None for no cache.

    ``--no-cache`` > ``--cache-dir`` > ``$ONCOMMIT_CACHE_DIR`` > ``cache-dir``
    (made absolute where it was read) > ``<root>/.oncommit_cache`` when
    ``root`` is a project.
    """
    if no_cache or os.environ.get(ENV_NO_CACHE, "").strip().lower() in ("1", "true", "yes"):
        return None
    for given in (flag, os.environ.get(ENV_CACHE_DIR), config.cache_dir if config is not None else None):
        if given:
            return Path(os.path.abspath(os.path.expanduser(given)))
    return root / CACHE_DIR if is_project(root) else None


def _libcst_version() -> str:
    """Which libcst is installed, without importing it (a warm run never does).

    Its package's location and the stamp of its ``__init__.py``: an upgrade
    or a reinstall changes them. (``importlib.metadata`` costs more than a
    whole warm run's lookups.)
    """
    try:
        from importlib.util import find_spec

        spec = find_spec("libcst")
        origin = spec.origin if spec is not None else None
        if origin is None:
            return "?"
        info = os.stat(origin)
        return f"{origin}:{info.st_mtime_ns}:{info.st_size}"
    except (ImportError, OSError, ValueError):  # pragma: no cover - not installed normally
        return "?"


def cache_key(config: Config) -> str:
    """A digest of the tool, the interpreter, the parser and the configuration."""
    fields = {
        field.name: sorted(value) if isinstance(value, frozenset) else value
        for field in dataclasses.fields(config)
        if field.name not in _NOT_IN_KEY
        for value in (getattr(config, field.name),)
    }
    text = json.dumps(
        {
            "tool": __version__,
            "python": list(sys.version_info[:2]),
            "libcst": _libcst_version(),
            "summary": SUMMARY_FORMAT,
            "cache": CACHE_FORMAT,
            "config": fields,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def entry_id(*parts: str) -> str:
    """A file name for an entry about ``parts`` (a path, a module name...)."""
    return hashlib.sha1("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:24]


def content_hash(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


class Store:
    """A cache directory: JSON entries read and replaced atomically, errors swallowed.

    Several processes (the CLI's workers, flake8's) may write the same entry
    at once: each writes a temporary file and renames it over the entry, so a
    reader sees a whole entry or the previous one. An entry that does not
    parse is treated as missing.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        #: None: not tried yet; False: the directory cannot be written
        self._writable: bool | None = None

    def read(self, name: str) -> dict[str, object] | None:
        try:
            with open(self.directory / name, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def write(self, name: str, data: dict[str, object]) -> None:
        if not self._prepare():
            return
        target = self.directory / name
        temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(temp, "w", encoding="utf-8") as handle:
                json.dump(data, handle, separators=(",", ":"))
            os.replace(temp, target)
        except (OSError, ValueError, TypeError):
            with contextlib.suppress(OSError):
                os.unlink(temp)

    def _prepare(self) -> bool:
        """Create the directory with its ``.gitignore`` and ``CACHEDIR.TAG`` (once)."""
        if self._writable is None:
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                for name, text in (
                    ("CACHEDIR.TAG", _TAG),
                    (".gitignore", "# created by flake8-oncommit\n*\n"),
                ):
                    path = self.directory / name
                    if not path.exists():
                        path.write_text(text, encoding="utf-8")
                self._writable = os.access(self.directory, os.W_OK)
            except OSError:
                self._writable = False
        return self._writable
