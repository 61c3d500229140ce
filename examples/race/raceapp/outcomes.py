"""What the worker saw, kept in memory outside the database.

The worker records here whether it found the row; the demo waits here for
each task. Nothing in this module touches the database, so the record never
depends on the transaction it is about.
"""

from __future__ import annotations

import threading

_seen: dict[str, bool] = {}
_changed = threading.Condition()


def record(msgid: str, found: bool) -> None:
    with _changed:
        _seen[msgid] = found
        _changed.notify_all()


def wait_for(msgid: str, timeout: float) -> bool | None:
    """Whether the worker found the row of ``msgid``; None if it never ran in time."""
    with _changed:
        _changed.wait_for(lambda: msgid in _seen, timeout=timeout)
        return _seen.get(msgid)
