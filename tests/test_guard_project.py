"""The guard on a whole Django project, run as users run it: pytest-django and ``manage.py test``.

``tests/guard_project`` is copied to a temporary directory and its test
suite (Django ``TestCase`` and ``TransactionTestCase`` classes, and
pytest-django functions) runs in a subprocess, on SQLite and a real Celery
app on its in-memory broker. Its views race in the ways the static check
cannot always see (a ``post_save`` receiver in another app, a notifier
subclass chosen at run time, a configured transport, a django-q broker of
the project's own) and are fixed in the ways that must stay quiet
(``on_commit``, ``delay_on_commit``, django-q's ORM broker). Expected lines
are the ``# send: NAME`` / ``# block: NAME`` comments of the project.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pytest_django")
pytest.importorskip("celery")
pytest.importorskip("django_q")

pytestmark = pytest.mark.heavy

TEMPLATE = Path(__file__).resolve().parent / "guard_project"
TIMEOUT = 180

#: (code, send marker, block marker) of every race the project's tests run into
EXPECTED = {
    ("OC101", "shop/views.py", "place-order", "shop/views.py", "place-order"),
    ("OC101", "notifications/receivers.py", "receiver", "shop/views.py", "review"),
    ("OC101", "shop/notifiers.py", "override", "shop/views.py", "notify"),
    ("OC101", "shop/views.py", "outbox", "shop/views.py", "outbox"),
    ("OC101", "shop/views.py", "djangoq-list", "shop/views.py", "djangoq-list"),
    ("OC106", "shop/views.py", "signup", "shop/views.py", "signup"),
}

#: the tests in which a race happens (strict mode fails exactly these)
RACING_TESTS = {
    "shop/tests.py::OrderViewTests::test_place_order_races",
    "shop/tests.py::OrderViewTests::test_review_receiver_races",
    "shop/tests.py::OrderViewTests::test_queue_notifier_races",
    "shop/tests.py::OrderViewTests::test_outbox_races",
    "shop/tests.py::OrderViewTests::test_djangoq_list_broker_races",
    "shop/tests.py::AtomicRequestsTests::test_signup_races",
    "shop/tests.py::AtomicRequestsTests::test_place_order_races",
    "shop/tests.py::TransactionalOrderTests::test_place_order_races",
    "style_tests.py::test_place_order_races",
    "style_tests.py::test_review_receiver_races",
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("guard-project")
    shutil.copytree(TEMPLATE, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def marked_line(project: Path, path: str, marker: str) -> int:
    for number, text in enumerate((project / path).read_text(encoding="utf-8").splitlines(), 1):
        if text.rstrip().endswith(f" {marker}"):
            return number
    raise AssertionError(f"{path}: no line marked {marker!r}")


def expected_keys(project: Path) -> set[tuple[str, str, int, str, int]]:
    return {
        (
            code,
            send_path,
            marked_line(project, send_path, f"send: {send}"),
            block_path,
            marked_line(project, block_path, f"block: {block}"),
        )
        for code, send_path, send, block_path, block in EXPECTED
    }


def run(project: Path, *args: str, runner: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "DJANGO_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if runner:
        env["GUARD_PROJECT_TEST_RUNNER"] = runner
    return subprocess.run(
        [sys.executable, *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def pytest_run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(project, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rf", *args)


def keys_of(findings: list[dict[str, Any]]) -> set[tuple[str, str, int, str, int]]:
    return {
        (f["code"], f["send"]["path"], f["send"]["line"], f["block"]["path"], f["block"]["line"])
        for f in findings
    }


def text_keys(output: str) -> set[tuple[str, str, int]]:
    """``(code, path, line)`` of the report's finding lines."""
    return {
        (match["code"], match["path"], int(match["line"]))
        for match in re.finditer(r"^(?P<path>[\w/.]+\.py):(?P<line>\d+): (?P<code>OC\d{3}) ", output, re.M)
    }


def details(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"


def test_pytest_django_reports_each_race_once_with_both_locations(project: Path) -> None:
    report = project / "guard.json"
    proc = pytest_run(project, "--oncommit-guard", f"--oncommit-guard-json={report}")
    assert proc.returncode == 0, details(proc)
    data = json.loads(report.read_text(encoding="utf-8"))
    assert keys_of(data["findings"]) == expected_keys(project), details(proc)
    assert set(data["libraries"]) == {"celery", "django-q", "enqueue-functions"}
    assert data["problems"] == []
    by_send = {(f["send"]["path"], f["send"]["line"]): f for f in data["findings"]}
    place_order = by_send["shop/views.py", marked_line(project, "shop/views.py", "send: place-order")]
    # TestCase, TestCase under ATOMIC_REQUESTS, TransactionTestCase and pytest-django: one finding
    assert place_order["count"] == 4
    assert set(place_order["tests"]) == {
        test for test in RACING_TESTS if test.endswith("test_place_order_races")
    }
    receiver = by_send[
        "notifications/receivers.py", marked_line(project, "notifications/receivers.py", "send: receiver")
    ]
    assert [frame["function"] for frame in receiver["send_stack"]][-3:] == [
        "save_base",
        "send",
        "index_new_review",
    ]
    assert receiver["block_stack"][-1] == {
        "path": "shop/views.py",
        "line": marked_line(project, "shop/views.py", "block: review"),
        "function": "review",
    }
    # The terminal summary says the same, once per race.
    assert "= oncommit guard =" in proc.stdout, details(proc)
    summary = proc.stdout.split("= oncommit guard =", 1)[1]
    assert text_keys(summary) == {(code, path, line) for code, path, line, _, _ in expected_keys(project)}
    assert "6 distinct races (10 of 20 sends" in summary


def test_strict_fails_exactly_the_tests_that_race(project: Path) -> None:
    proc = pytest_run(project, "--oncommit-guard=strict")
    failed = set(re.findall(r"^FAILED (\S+)", proc.stdout, re.M))
    assert failed == RACING_TESTS, details(proc)
    assert f"{len(RACING_TESTS)} failed, 10 passed" in proc.stdout, details(proc)
    assert "oncommit guard (strict): a job was sent while a transaction was open" in proc.stdout


def test_ini_switches_it_on_and_without_it_nothing_is_patched(project: Path) -> None:
    report = project / "ini.json"
    proc = pytest_run(
        project,
        "-o",
        "oncommit_guard=true",
        f"--oncommit-guard-json={report}",
        "shop/tests.py::OrderViewTests::test_queue_notifier_races",
    )
    assert proc.returncode == 0, details(proc)
    (finding,) = json.loads(report.read_text(encoding="utf-8"))["findings"]
    assert finding["send"]["path"] == "shop/notifiers.py"
    off = pytest_run(project, "check_off.py", "shop/tests.py")
    assert off.returncode == 0, details(off)
    assert "oncommit guard" not in off.stdout


def test_manage_py_test_with_the_runner_mixin(project: Path) -> None:
    runner = "flake8_oncommit.runtime.OnCommitGuardRunner"
    proc = run(project, "manage.py", "test", "shop", runner=runner)
    assert proc.returncode == 0, details(proc)
    expected = {(code, path, line) for code, path, line, _, _ in expected_keys(project)}
    # manage.py test runs shop/tests.py only: the same races, style_tests.py aside.
    assert text_keys(proc.stderr) == expected, details(proc)
    assert "flake8-oncommit guard: 6 distinct races" in proc.stderr

    strict = run(project, "manage.py", "test", "shop", "--oncommit-guard=strict", runner=runner)
    assert strict.returncode == 1, details(strict)
    failed = set(re.findall(r"^FAIL: (\w+) \(shop\.tests\.(\w+)", strict.stderr, re.M))
    assert {f"shop/tests.py::{cls}::{name}" for name, cls in failed} == {
        test for test in RACING_TESTS if test.startswith("shop/")
    }, details(strict)

    off = run(project, "manage.py", "test", "shop", "--oncommit-guard=off", runner=runner)
    assert off.returncode == 0, details(off)
    assert "oncommit guard" not in off.stderr
