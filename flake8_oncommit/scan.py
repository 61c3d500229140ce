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

import hashlib
import operator
import os
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePath
from typing import Any

from .cache import Store, content_hash, entry_id
from .files import TEMP_MARKER, FileError, is_excluded_dir, read
from .index import (
    QUEUE_KINDS,
    QUEUE_PATTERNS,
    could_define_receiver,
    could_define_task_base,
    could_define_wrapper,
    queues_used,
)
from .source import SourceError, decode

#: The settings whose evidence is looked for (see :mod:`.settings_scan`).
SETTINGS_KEYS = ("ATOMIC_REQUESTS", "Q_CLUSTER")
_SETTINGS_NAME = re.compile(r"settings", re.IGNORECASE)


#: What one file's bytes say, as kept in ``scan.json``: ``[mtime_ns, size,
#: content hash (16 hex digits, "" when unreadable), flags]``, then the
#: settings it turns on (``{key: line}``) when it turns any on. Plain lists:
#: a warm run compares stamps of thousands of them and builds no object.
Facts = list[Any]
WRAPPER = 1  # it could define an atomic wrapper (see :func:`.index.could_define_wrapper`)
TASK_BASE = 2  # it could define a commit-aware Celery Task base (it overrides apply_async)
RECEIVER = 4  # it could register a signal receiver (see :func:`.index.could_define_receiver`)
#: it sends that way (:func:`.index.queues_used`: a queue library, or its own queue), one bit each from 8 up
QUEUE_BITS: dict[str, int] = {kind: 8 << number for number, kind in enumerate(QUEUE_KINDS)}
#: the bits above, and what sets them, are part of the format
SCAN_FORMAT = "6:" + hashlib.sha1(",".join(QUEUE_BITS).encode() + QUEUE_PATTERNS).hexdigest()[:12]


def _valid(row: object) -> bool:
    """Enough of a row to use it (a stamp that does not compare equal only costs a read)."""
    return type(row) is list and 4 <= len(row) <= 5 and type(row[3]) is int


def _settings_of(row: Facts) -> dict[str, int]:
    found = row[4] if len(row) == 5 else {}
    return {str(key): line for key, line in found.items() if isinstance(line, int)}


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
        return [info.st_mtime_ns, info.st_size, "", 0]
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
    flags = (
        (WRAPPER if could_define_wrapper(data) else 0)
        | (TASK_BASE if could_define_task_base(data) else 0)
        | (RECEIVER if could_define_receiver(data) else 0)
    )
    for kind in queues_used(data):
        flags |= QUEUE_BITS[kind]
    row: Facts = [snapshot.mtime_ns, snapshot.size, content_hash(data)[:16], flags]
    return [*row, settings] if settings else row


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
        facts = self.facts
        for path, relative, info in python_files(str(self.root)):
            self.order.append(relative)
            old = stored.get(relative)
            if old is not None and old[0] == info.st_mtime_ns and old[1] == info.st_size:
                facts[relative] = old
            else:
                todo.append((path, relative))
        self.read = len(todo)
        results = (mapper or _map)(facts_of, todo)
        restamped = False
        for (_, relative), row in zip(todo, results):
            if row is not None:
                facts[relative] = row
                old = stored.get(relative)
                restamped = restamped or (old is not None and old[2] == row[2])
        self.order = [relative for relative in self.order if relative in facts]
        self.changed = stored.keys() != facts.keys() or any(
            stored[relative][2] != facts[relative][2] for relative in facts if relative in stored
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
        return [self.root / relative for relative in self.order if self.facts[relative][3] & WRAPPER]

    def receiver_candidates(self) -> list[Path]:
        """Files that could register a signal receiver, in walking order."""
        return [self.root / relative for relative in self.order if self.facts[relative][3] & RECEIVER]

    def digest(self) -> str:
        """Every file's content hash, in one: equal only when no file of the tree changed."""
        hashes = "\n".join(f"{relative}\0{self.facts[relative][2]}" for relative in sorted(self.facts))
        return hashlib.sha1(hashes.encode("utf-8", "surrogatepass")).hexdigest()[:16]

    def task_bases(self) -> bool:
        """Whether any file could define a commit-aware Task base class."""
        return any(row[3] & TASK_BASE for row in self.facts.values())

    def queues(self) -> tuple[str, ...]:
        """How the project sends jobs: the queue libraries its files import, and its own queue."""
        flags = 0
        for row in self.facts.values():
            flags |= row[3]
        return tuple(kind for kind, bit in QUEUE_BITS.items() if flags & bit)

    def settings(self) -> dict[str, tuple[Path, int]]:
        """For each setting, the first settings module (in walking order) that turns it on."""
        found: dict[str, tuple[Path, int]] = {}
        for relative in self.order:
            row = self.facts[relative]
            if len(row) == 5:
                for key, line in _settings_of(row).items():
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
        stored = {relative: row for relative, row in files.items() if _valid(row)}
        return stored, [Path(root) for root in roots if isinstance(root, str)]

    def _save(self) -> None:
        if self.store is None:
            return
        self.store.write(
            self._name,
            {
                "format": SCAN_FORMAT,
                "root": str(self.root),
                "files": {relative: self.facts[relative] for relative in self.order},
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
                entries = sorted(listing, key=_name)
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


_name = operator.attrgetter("name")


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
