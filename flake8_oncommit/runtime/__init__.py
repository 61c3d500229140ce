"""The test-suite guard: report jobs sent at run time while a transaction is still open.

Static analysis cannot see an enqueue in a third-party signal receiver, in
a method chosen at run time or behind a registry lookup; the test suite
runs those paths inside real transactions every day. The guard watches
them::

    pytest --oncommit-guard            # report at the end of the session
    pytest --oncommit-guard=strict     # fail the test where it happened
    TEST_RUNNER = "flake8_oncommit.runtime.OnCommitGuardRunner"   # manage.py test

or, from code::

    from flake8_oncommit.runtime import Guard

    with Guard() as guard:
        run_the_code()
    print(guard.report())

Names are loaded on first use: the pytest plugin imports this package at
every pytest start, and the guard must cost nothing while it is off.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .guard import Guard, GuardError, active_guard
    from .report import Location, RaceFinding
    from .runner import OnCommitGuardRunnerMixin

_NAMES = {
    "Guard": "guard",
    "GuardError": "guard",
    "active_guard": "guard",
    "Location": "report",
    "RaceFinding": "report",
    "OnCommitGuardRunnerMixin": "runner",
    "OnCommitGuardRunner": "runner",
}

__all__ = [
    "Guard",
    "GuardError",
    "Location",
    "OnCommitGuardRunner",
    "OnCommitGuardRunnerMixin",
    "RaceFinding",
    "active_guard",
]


def __getattr__(name: str) -> Any:
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
