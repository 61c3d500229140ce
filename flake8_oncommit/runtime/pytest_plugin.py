"""pytest plugin (entry point ``pytest11``): ``pytest --oncommit-guard[=report|strict|off]``.

Off by default. Off, it only adds its options: nothing is imported or
patched. On, the guard starts at configure time (before the test modules
and Django apps are imported) with the settings of ``[tool.flake8-oncommit]``
in the nearest ``pyproject.toml``, and:

- ``report`` (also ``oncommit_guard = true`` in the ini file): each distinct
  race is printed once in the terminal summary, with both locations;
- ``strict``: in addition, a test (setup, call or teardown) in which a job was
  sent while a transaction was open fails with the finding.

``--oncommit-guard-json=PATH`` writes the findings as JSON too.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .guard import Guard

MODES = ("off", "report", "strict")
_TRUE = ("true", "yes", "on", "1", "report")
_FALSE = ("false", "no", "0", "", "off")


def parse_mode(value: str) -> str:
    """``report``/``strict``/``off``, also from ini booleans; anything else is an error."""
    text = value.strip().lower()
    if text in _TRUE:
        return "report"
    if text in _FALSE:
        return "off"
    if text == "strict":
        return "strict"
    raise ValueError(
        f"expected report, strict or off, got {value!r} (a path after --oncommit-guard is read as "
        "its value: write --oncommit-guard=report, or put the option after the paths)"
    )


def _option_mode(value: str) -> str:
    try:
        return parse_mode(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("oncommit-guard", "flake8-oncommit test-suite guard")
    group.addoption(
        "--oncommit-guard",
        nargs="?",
        const="report",
        default=None,
        type=_option_mode,
        metavar="report|strict|off",
        dest="oncommit_guard",
        help="report jobs (Celery, django-q, RQ, Dramatiq, Huey, Django tasks) sent while a database "
        "transaction opened by the code is still open; strict fails the test where it happens",
    )
    group.addoption(
        "--oncommit-guard-json",
        default=None,
        metavar="PATH",
        dest="oncommit_guard_json",
        help="also write the guard's findings to PATH as JSON",
    )
    parser.addini(
        "oncommit_guard", "the test-suite guard: true/report, strict or false (default)", default=""
    )


def pytest_configure(config: pytest.Config) -> None:
    mode = config.getoption("oncommit_guard")
    if mode is None:
        try:
            mode = parse_mode(str(config.getini("oncommit_guard")))
        except ValueError as error:
            raise pytest.UsageError(f"ini oncommit_guard: {error}") from None
    if mode == "off":
        return
    from ..config import DEFAULT_CONFIG, ConfigError, find_pyproject, load_pyproject
    from .guard import Guard

    pyproject = find_pyproject(config.rootpath)
    try:
        settings = load_pyproject(pyproject) if pyproject is not None else DEFAULT_CONFIG
    except ConfigError as error:
        raise pytest.UsageError(str(error)) from None
    guard = Guard(settings, root=config.rootpath).start()
    json_path = config.getoption("oncommit_guard_json")
    plugin = GuardPlugin(guard, strict=mode == "strict", json_path=json_path)
    # pytest-xdist: the workers run the tests (strict mode fails them there);
    # their findings never reach this process's summary.
    plugin.distributed = bool(getattr(config.option, "numprocesses", None)) and not hasattr(
        config, "workerinput"
    )
    config.pluginmanager.register(plugin, "oncommit-guard-session")


class OnCommitRace(AssertionError):
    """A job was sent while a transaction was open (strict mode)."""


class GuardPlugin:
    """The hooks that exist only while the guard is on."""

    def __init__(self, guard: Guard, *, strict: bool, json_path: str | None) -> None:
        self.guard = guard
        self.strict = strict
        self.json_path = json_path
        self.distributed = False
        self._mark = 0

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, Any, None]:
        self.guard.context = item.nodeid
        yield
        self.guard.context = None

    def _phase(self) -> Generator[None, Any, None]:
        self._mark = self.guard.event_count
        yield

    pytest_runtest_setup = pytest.hookimpl(hookwrapper=True)(_phase)
    pytest_runtest_call = pytest.hookimpl(hookwrapper=True)(_phase)
    pytest_runtest_teardown = pytest.hookimpl(hookwrapper=True)(_phase)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item) -> Generator[None, Any, None]:
        outcome = yield
        if not self.strict:
            return
        report: pytest.TestReport = outcome.get_result()
        found = self.guard.findings_since(self._mark)
        if found and report.passed:
            root = self.guard.root
            report.outcome = "failed"
            title = "oncommit guard (strict): a job was sent while a transaction was open"
            report.longrepr = "\n\n".join([title, *(finding.format(root) for finding in found)])

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        terminalreporter.write_sep("=", "oncommit guard")
        if self.distributed:
            terminalreporter.write_line(
                "oncommit guard: the tests ran in pytest-xdist workers, whose findings are not collected "
                "here (strict mode still fails the tests that race); run with -n 0 for the report"
            )
            return
        terminalreporter.write_line(self.guard.report())
        for problem in self.guard.problems:
            terminalreporter.write_line(f"oncommit guard: {problem}")

    def pytest_sessionfinish(self) -> None:
        if self.json_path:
            root = self.guard.root
            data = {
                "sends": self.guard.sends,
                "libraries": sorted(set(self.guard.hooked)),
                "findings": [finding.to_json(root) for finding in self.guard.findings],
                "problems": list(self.guard.problems),
            }
            Path(self.json_path).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")

    def pytest_unconfigure(self) -> None:
        self.guard.stop()
