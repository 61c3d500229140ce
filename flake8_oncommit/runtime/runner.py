"""The guard for ``manage.py test``: a mixin for Django's test runner.

In settings::

    TEST_RUNNER = "flake8_oncommit.runtime.OnCommitGuardRunner"

or, with a runner of your own::

    from django.test.runner import DiscoverRunner
    from flake8_oncommit.runtime import OnCommitGuardRunnerMixin

    class Runner(OnCommitGuardRunnerMixin, DiscoverRunner):
        pass

``manage.py test`` then prints the guard's report after the results;
``--oncommit-guard=strict`` fails each test in which a job was sent while a
transaction was open, ``--oncommit-guard=off`` turns it off. Run the tests
in one process (``--parallel`` workers keep their findings to themselves).
"""

from __future__ import annotations

import importlib
import sys
import unittest
from pathlib import Path
from typing import Any

from .pytest_plugin import parse_mode


class OnCommitRace(AssertionError):
    """A job was sent while a transaction was open (strict mode)."""


class OnCommitGuardRunnerMixin:
    """Runs the test suite under the guard; mix in before ``DiscoverRunner``."""

    #: report, strict or off when ``--oncommit-guard`` is not given
    oncommit_guard_mode = "report"

    def __init__(self, *args: Any, oncommit_guard: str | None = None, **kwargs: Any) -> None:
        parent: Any = super()
        parent.__init__(*args, **kwargs)
        if oncommit_guard is not None:
            self.oncommit_guard_mode = oncommit_guard
        self.oncommit_guard: Any = None

    @classmethod
    def add_arguments(cls, parser: Any) -> None:
        parent: Any = super()
        parent.add_arguments(parser)
        parser.add_argument(
            "--oncommit-guard",
            nargs="?",
            const="report",
            default=None,
            type=parse_mode,
            metavar="report|strict|off",
            dest="oncommit_guard",
            help="report jobs sent while a database transaction opened by the code is still open "
            "(strict: fail the test where it happens)",
        )

    def run_tests(self, *args: Any, **kwargs: Any) -> int:
        parent: Any = super()
        if self.oncommit_guard_mode == "off":
            return int(parent.run_tests(*args, **kwargs))
        from ..config import DEFAULT_CONFIG, find_pyproject, load_pyproject
        from .guard import Guard

        pyproject = find_pyproject(Path.cwd())
        settings = load_pyproject(pyproject) if pyproject is not None else DEFAULT_CONFIG
        guard = self.oncommit_guard = Guard(settings).start()
        try:
            failures = int(parent.run_tests(*args, **kwargs))
        finally:
            guard.stop()
        if int(getattr(self, "parallel", 1) or 1) > 1:
            print(
                "oncommit guard: tests ran in --parallel workers, whose findings are not collected "
                "here; run with --parallel 1 for the report",
                file=sys.stderr,
            )
        print(guard.report(), file=sys.stderr)
        for problem in guard.problems:
            print(f"oncommit guard: {problem}", file=sys.stderr)
        return failures

    def get_resultclass(self) -> Any:
        parent: Any = super()
        base = parent.get_resultclass() or unittest.TextTestResult
        if self.oncommit_guard is None:
            return base
        return _result_class(base, self.oncommit_guard, strict=self.oncommit_guard_mode == "strict")


def _result_class(base: type, guard: Any, *, strict: bool) -> type:
    """``base`` that names each test for the guard and, strict, fails a test that raced."""

    class OnCommitGuardResult(base):  # type: ignore[misc]
        def startTest(self, test: unittest.TestCase) -> None:
            guard.context = test.id()
            self._oncommit_mark = guard.event_count
            super().startTest(test)

        def addSuccess(self, test: unittest.TestCase) -> None:
            found = guard.findings_since(self._oncommit_mark) if strict else []
            if not found:
                super().addSuccess(test)
                return
            text = "\n\n".join(
                [
                    "oncommit guard (strict): a job was sent while a transaction was open",
                    *(finding.format(guard.root) for finding in found),
                ]
            )
            try:
                raise OnCommitRace(text)
            except OnCommitRace:
                self.addFailure(test, sys.exc_info())

        def stopTest(self, test: unittest.TestCase) -> None:
            super().stopTest(test)
            guard.context = None

    return OnCommitGuardResult


def __getattr__(name: str) -> Any:
    """``OnCommitGuardRunner``: the mixin on Django's ``DiscoverRunner``, built on first use."""
    if name != "OnCommitGuardRunner":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    discover = importlib.import_module("django.test.runner").DiscoverRunner
    runner = type(
        "OnCommitGuardRunner",
        (OnCommitGuardRunnerMixin, discover),
        {"__module__": __name__, "__doc__": "Django's DiscoverRunner under the oncommit guard."},
    )
    globals()[name] = runner
    return runner
