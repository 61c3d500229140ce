"""What the test-suite guard costs, as ratios measured side by side (A B A B ..., best of N).

    python benchmarks/guard.py [--repeat 5] [--iterations 2000]

* a test run with the guard / the same run without it: the Django project of
  ``tests/guard_project`` (pytest-django, Django TestCase and
  TransactionTestCase, a real Celery app on ``memory://``), in a subprocess;
* the same run with the plugin installed but off / with the plugin not
  loaded at all (``-p no:oncommit``): the cost when off;
* in one process, a workload of atomic blocks that write a row and send a
  Celery task (half of them racing, half deferred with ``on_commit``), with
  the guard started / without: the cost per block and per send, without
  pytest's and Django's start-up around it.

Needs the test extra (django, celery, pytest-django, django-q2).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent / "tests" / "guard_project"


def best_of_alternating(a: Callable[[], object], b: Callable[[], object], repeat: int) -> tuple[float, float]:
    times_a, times_b = [], []
    for _ in range(repeat):
        for fn, times in ((a, times_a), (b, times_b)):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return min(times_a), min(times_b)


def pytest_command(cwd: Path, *args: str) -> Callable[[], object]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "DJANGO_"))}

    def run() -> object:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        if proc.returncode != 0:
            raise SystemExit(f"pytest {' '.join(args)} failed:\n{proc.stdout}")
        return proc

    return run


def workload(iterations: int) -> Callable[[], object]:
    """Atomic blocks that write a row and send a task: half race, half defer."""
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
            INSTALLED_APPS=[],
            USE_TZ=True,
        )
        django.setup()
    from celery import Celery
    from django.db import connection, transaction

    app = Celery("bench", broker="memory://", set_as_current=False)
    app.conf.task_always_eager = False

    @app.task(name="bench.notify")
    def notify(pk: int) -> int:
        return pk

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS item (id INTEGER PRIMARY KEY, n INTEGER)")

    def run() -> object:
        for i in range(iterations):
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("INSERT INTO item (n) VALUES (%s)", [i])
                if i % 2:
                    notify.delay(i)
                else:
                    transaction.on_commit(partial(notify.delay, i))
        return None

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=2000)
    args = parser.parse_args(argv)

    rows: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="guard-bench-") as tmp:
        project = Path(tmp) / "project"
        shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("__pycache__"))
        on, off = best_of_alternating(
            pytest_command(project, "--oncommit-guard"), pytest_command(project), args.repeat
        )
        rows.append(("test run: guard on / guard off (plugin loaded)", on, off))
        loaded, unloaded = best_of_alternating(
            pytest_command(project), pytest_command(project, "-p", "no:oncommit"), args.repeat
        )
        rows.append(("test run: plugin loaded, off / plugin not loaded", loaded, unloaded))

    from flake8_oncommit.runtime import Guard

    run = workload(args.iterations)
    run()  # warm up: imports, the broker's first connection

    def guarded() -> object:
        with Guard():
            return run()

    on, off = best_of_alternating(guarded, run, args.repeat)
    rows.append((f"{args.iterations} atomic blocks + sends in-process: guard on / off", on, off))

    print(f"Python {sys.version.split()[0]}, best of {args.repeat}, alternating\n")
    print("| measurement | ratio | numerator (s) | denominator (s) |")
    print("| --- | ---: | ---: | ---: |")
    for name, numerator, denominator in rows:
        print(f"| {name} | {numerator / denominator:.2f} | {numerator:.3f} | {denominator:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
