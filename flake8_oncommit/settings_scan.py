"""What the project's settings say: are views atomic, is django-q's queue a table?

``atomic-requests = auto``: does this project run its views in a transaction?

Django wraps each view in ``transaction.atomic`` when a ``DATABASES`` entry
has ``ATOMIC_REQUESTS`` set. Projects spell that many ways: a literal in the
``DATABASES`` dict, a dict merged into it, ``DATABASES["default"]
["ATOMIC_REQUESTS"] = True``, ``dict(ATOMIC_REQUESTS=env.bool(...))``. Any
such setting whose value is not a literal false switches OC106 on. A
top-level ``ATOMIC_REQUESTS = True`` does not: Django ignores it (OC107).

``Q_CLUSTER = {"orm": "default", ...}``: django-q queues its jobs through
the ORM broker, as rows of the database: a job enqueued in a transaction is
seen by the cluster only after the commit, and never after a rollback.

The files are found and read by the project scan (:mod:`.scan`, cached per
file); only a settings module that mentions one of the settings is parsed
(:mod:`.settings_values`). Nothing is remembered between calls except
through the caller's scan, so an edited settings module is always seen.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

from .cache import ROOT_MARKERS
from .config import Config
from .queues.django_q import SENDERS as DJANGO_Q_SENDERS
from .scan import ProjectScan

KEY = "ATOMIC_REQUESTS"
DJANGO_Q_KEY = "Q_CLUSTER"


@dataclass(frozen=True)
class Evidence:
    """Where a project turns a setting on (``path`` relative to the current directory)."""

    path: str
    line: int


def project_root(start: Path) -> Path:
    """The nearest directory at or above ``start`` that looks like a project root."""
    start = Path(os.path.abspath(start))
    if not start.is_dir():
        start = start.parent
    for directory in (start, *start.parents):
        if any((directory / marker).exists() for marker in ROOT_MARKERS):
            return directory
    return start


def find_settings(root: Path, scan: ProjectScan | None = None) -> dict[str, Evidence]:
    """For each setting, the first settings module of the project that turns it on."""
    if scan is None:
        scan = ProjectScan(root).run()
    return {key: Evidence(os.path.relpath(path), line) for key, (path, line) in scan.settings().items()}


def find_atomic_requests(root: Path, scan: ProjectScan | None = None) -> Evidence | None:
    """Evidence that the project's settings turn ATOMIC_REQUESTS on, or None."""
    return find_settings(root, scan).get(KEY)


def find_djangoq_orm_broker(root: Path, scan: ProjectScan | None = None) -> Evidence | None:
    """Where the project's settings make django-q use its ORM broker, or None."""
    return find_settings(root, scan).get(DJANGO_Q_KEY)


def with_project_settings(
    config: Config, root: Path, scan: ProjectScan | None = None
) -> tuple[Config, list[str]]:
    """``config`` completed with what the project's settings say, and notes saying what.

    ``atomic-requests = auto`` becomes true or false; a django-q ORM broker
    makes django-q's senders transactional queues. ``scan`` is the caller's
    scan of ``root`` (one is made when not given).
    """
    found = find_settings(root, scan)
    notes = []
    if config.atomic_requests == "auto":
        evidence = found.get(KEY)
        if evidence is not None:
            notes.append(f"ATOMIC_REQUESTS is on ({evidence.path}:{evidence.line}); checking views (OC106)")
        config = dataclasses.replace(
            config,
            atomic_requests="true" if evidence else "false",
            atomic_requests_origin=f"{evidence.path}:{evidence.line}" if evidence else None,
        )
    broker = found.get(DJANGO_Q_KEY)
    if broker is not None:
        notes.append(
            f"django-q uses its ORM broker ({broker.path}:{broker.line}); its jobs wait for the commit"
        )
        config = dataclasses.replace(
            config, transactional_queues=config.transactional_queues | DJANGO_Q_SENDERS
        )
    return config, notes
