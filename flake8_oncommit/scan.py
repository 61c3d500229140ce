"""The project's files at a glance, for what is decided project-wide.

Two answers depend on the whole project rather than on one file: what its
settings say (``ATOMIC_REQUESTS``, django-q's ORM broker) and the names of
its atomic wrappers (which the pre-check lets through). Both start from the
bytes of every file. The scan stats every file and reads only those whose
size or mtime changed since the last run (``scan.json`` in the cache); a
warm run reads no source at all. Reading the changed files can be handed to
worker processes (``mapper``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from .cache import Store, content_hash, entry_id
from .files import TEMP_MARKER, FileError, is_excluded_dir, read
from .index import could_define_task_base, could_define_wrapper
from .source import SourceError, decode

#: The settings whose evidence is looked for (see :mod:`.settings_scan`).
SETTINGS_KEYS = ("ATOMIC_REQUESTS", "Q_CLUSTER")
_SETTINGS_NAME = re.compile(r"settings", re.IGNORECASE)
SCAN_FORMAT = 3


@dataclass(frozen=True)
class Facts:
    """What one file's bytes say, and the stamp they were read with."""

    stamp: tuple[int, int]
    #: content hash ("" when the file could not be read)
    hash: str
    #: it could define an atomic wrapper (see :func:`.index.could_define_wrapper`)
    wrapper: bool = False
    #: settings it turns on, and the line where it does
    settings: dict[str, int] = field(default_factory=dict)
    #: it could define a commit-aware Celery Task base (it overrides apply_async)
    task_base: bool = False

    def to_json(self) -> list[object]:
        flags = int(self.wrapper) | int(self.task_base) << 1
        row: list[object] = [self.stamp[0], self.stamp[1], self.hash[:16], flags]
        return [*row, self.settings] if self.settings else row

    @classmethod
    def from_json(cls, data: object) -> Facts | None:
        if not isinstance(data, list) or len(data) not in (4, 5):
            return None
        mtime, size, digest, flags = data[:4]
        settings = data[4] if len(data) == 5 else {}
        if not (isinstance(mtime, int) and isinstance(size, int) and isinstance(digest, str)):
            return None
        if not isinstance(flags, int) or not isinstance(settings, dict):
            return None
        if not all(isinstance(line, int) for line in settings.values()):
            return None
        return cls(
            (mtime, size), digest, bool(flags & 1), {str(k): v for k, v in settings.items()}, bool(flags & 2)
        )


def is_settings_candidate(relative: PurePath, text: str) -> bool:
    """Settings modules only: not tests that override settings."""
    if relative.stem.startswith("test") or "tests" in relative.parts[:-1]:
        return False
    return (
        bool(_SETTINGS_NAME.search(relative.stem)) or "settings" in relative.parts[:-1] or "DATABASES" in text
    )


def facts_of(item: tuple[str, str]) -> Facts | None:
    """Read one file (``(path, path relative to the root)``) and say what it holds.

    A module-level function so that worker processes can run it.
    """
    path, relative = item
    try:
        snapshot = read(path)
    except FileError:
        try:
            info = os.stat(path)
        except OSError:
            return None
        return Facts((info.st_mtime_ns, info.st_size), "")
    data = snapshot.data
    keys = [key for key in SETTINGS_KEYS if key.encode() in data]
    settings: dict[str, int] = {}
    if keys:
        try:
            text = decode(data).text
        except SourceError:
            text = None
        if text is not None and is_settings_candidate(PurePath(relative), text):
            from .settings_values import evidence_lines  # parses: only for settings modules

            settings = evidence_lines(text, keys)
    return Facts(
        (snapshot.mtime_ns, snapshot.size),
        content_hash(data),
        could_define_wrapper(data),
        settings,
        could_define_task_base(data),
    )


Mapper = Callable[
    [Callable[[tuple[str, str]], "Facts | None"], list[tuple[str, str]]], Iterable["Facts | None"]
]


class ProjectScan:
    """Every Python file under ``root``, with its :class:`Facts`, kept up to date cheaply."""

    def __init__(self, root: Path, store: Store | None = None) -> None:
        self.root = Path(os.path.abspath(root))
        self.store = store
        self._name = f"{entry_id(str(self.root))[:12]}/scan.json"
        #: paths relative to the root, in walking order
        self.order: list[str] = []
        self.facts: dict[str, Facts] = {}
        #: whether any file differs from the last stored scan (or there was none)
        self.changed = True
        #: directories the project's modules are imported from
        self.roots: list[Path] = []
        #: files read this time (the rest were unchanged)
        self.read = 0

    def run(self, mapper: Mapper | None = None) -> ProjectScan:
        stored, stored_roots = self._load()
        todo: list[tuple[str, str]] = []
        for path, relative, info in python_files(str(self.root)):
            self.order.append(relative)
            old = stored.get(relative)
            if old is not None and old.stamp == (info.st_mtime_ns, info.st_size):
                self.facts[relative] = old
            else:
                todo.append((path, relative))
        self.read = len(todo)
        results = (mapper or _map)(facts_of, todo)
        restamped = False
        for (_, relative), facts in zip(todo, results):
            if facts is not None:
                self.facts[relative] = facts
                old = stored.get(relative)
                restamped = restamped or (old is not None and old.hash[:16] == facts.hash[:16])
        self.order = [relative for relative in self.order if relative in self.facts]
        self.changed = set(stored) != set(self.facts) or any(
            stored[relative].hash[:16] != facts.hash[:16]
            for relative, facts in self.facts.items()
            if relative in stored
        )
        if self.changed or stored_roots is None:
            self.roots = _import_roots(self.root, self.order)
        else:
            self.roots = stored_roots
        if self.changed or restamped or stored_roots is None:
            self._save()
        return self

    def paths(self) -> Iterator[Path]:
        for relative in self.order:
            yield self.root / relative

    def wrapper_candidates(self) -> list[Path]:
        """Files that could define an atomic wrapper, in walking order."""
        return [self.root / relative for relative in self.order if self.facts[relative].wrapper]

    def task_bases(self) -> bool:
        """Whether any file could define a commit-aware Task base class."""
        return any(facts.task_base for facts in self.facts.values())

    def settings(self) -> dict[str, tuple[Path, int]]:
        """For each setting, the first settings module (in walking order) that turns it on."""
        found: dict[str, tuple[Path, int]] = {}
        for relative in self.order:
            for key, line in self.facts[relative].settings.items():
                found.setdefault(key, (self.root / relative, line))
        return found

    def _load(self) -> tuple[dict[str, Facts], list[Path] | None]:
        data = self.store.read(self._name) if self.store is not None else None
        if data is None or data.get("format") != SCAN_FORMAT or data.get("root") != str(self.root):
            return {}, None
        files = data.get("files")
        roots = data.get("roots")
        if not isinstance(files, dict) or not isinstance(roots, list):
            return {}, None
        stored = {}
        for relative, value in files.items():
            facts = Facts.from_json(value)
            if facts is not None:
                stored[relative] = facts
        return stored, [Path(root) for root in roots if isinstance(root, str)]

    def _save(self) -> None:
        if self.store is None:
            return
        self.store.write(
            self._name,
            {
                "format": SCAN_FORMAT,
                "root": str(self.root),
                "files": {relative: self.facts[relative].to_json() for relative in self.order},
                "roots": [str(root) for root in self.roots],
            },
        )


def python_files(top: str) -> Iterator[tuple[str, str, os.stat_result]]:
    """``(path, path relative to top, stat)`` of every ``.py`` file under ``top``.

    The directories and the order are :func:`.files.discover`'s (excluded
    directories skipped, symlinked ones not followed, a directory's files
    before its subdirectories, names sorted), in one ``scandir`` pass with
    no path arithmetic per file: a warm run stats the whole project this way.
    """
    pending: list[tuple[str, str]] = [(top, "")]
    while pending:
        directory, prefix = pending.pop()
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError:
            continue
        subdirectories = []
        for entry in entries:
            name = entry.name
            try:
                is_directory = entry.is_dir()
            except OSError:
                is_directory = False
            if is_directory:
                if not entry.is_symlink() and not is_excluded_dir(entry.path, name):
                    subdirectories.append((entry.path, f"{prefix}{name}/"))
            elif name.endswith(".py") and TEMP_MARKER not in name:
                try:
                    info = entry.stat()
                except OSError:
                    continue
                yield entry.path, prefix + name, info
        pending.extend(reversed(subdirectories))


def _map(
    function: Callable[[tuple[str, str]], Facts | None], items: list[tuple[str, str]]
) -> Iterable[Facts | None]:
    return map(function, items)


def _import_roots(root: Path, files: Iterable[str]) -> list[Path]:
    """The directories the files are imported from (the first one up that is not a package)."""
    roots: dict[Path, None] = {}
    known: dict[Path, Path] = {}
    for relative in files:
        directory = (root / relative).parent
        chain = []
        while directory not in known:
            if not (directory / "__init__.py").is_file() or directory.parent == directory:
                known[directory] = directory
                break
            chain.append(directory)
            directory = directory.parent
        found = known[directory]
        for passed in chain:
            known[passed] = found
        roots[found] = None
    return list(roots)
