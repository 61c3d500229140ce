#!/usr/bin/env python
"""Show the enqueue-before-commit race with a real Celery worker, then show oncommit-fix ending it.

    python examples/race/demo.py [--n N] [--guard]

1. A fresh SQLite file in WAL mode in a temporary directory, migrated.
2. A real Celery worker in a thread of this process (the in-memory broker).
   Django gives each thread its own connection, so the worker reads through a
   connection of its own and sees only committed rows.
3. ``raceapp.services.send_msg`` runs N times: inside ``transaction.atomic``
   it creates the message, enqueues ``send_message.delay(...)``, works a
   little more, commits. The worker looks the message up by ``msgid``.
4. ``services.py`` is copied to a temporary directory and the real
   ``oncommit-fix`` rewrites the copy; the copy is imported and runs N times.

With ``--guard`` the whole scenario runs under the test-suite guard
(``flake8_oncommit.runtime.Guard``), which prints its report before the last
line: the race in ``raceapp/services.py`` with the line of the send and of
the atomic block, and nothing for the fixed copy.

The last line is ``before fix: X/N tasks missed their row; after fix: Y/N``.
Exit 0 when X > 0 and Y == 0 (and, with ``--guard``, the guard reported the
original and not the fixed copy), 1 when the race did not show or the fix
did not end it, 2 when the demo could not run (no ``oncommit-fix``, worker
stuck...).
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
SERVICES = HERE / "raceapp" / "services.py"

# Seconds to wait for the worker to run one task, and for the fixer to finish.
TASK_TIMEOUT = 15.0
FIXER_TIMEOUT = 120.0


class DemoError(Exception):
    """The demo could not run; exit 2."""


def find_fixer() -> list[str]:
    """The command that runs ``oncommit-fix``: the console script of this interpreter first."""
    script = "oncommit-fix.exe" if os.name == "nt" else "oncommit-fix"
    beside = Path(sys.executable).parent / script
    if beside.is_file():
        return [str(beside)]
    try:
        has_main = importlib.util.find_spec("flake8_oncommit.__main__") is not None
    except ImportError:
        has_main = False
    if has_main:
        return [sys.executable, "-m", "flake8_oncommit"]
    on_path = shutil.which("oncommit-fix")
    if on_path:
        return [on_path]
    raise DemoError(
        "oncommit-fix not found (not next to the interpreter "
        f"{sys.executable}, no flake8_oncommit.__main__, not on PATH); "
        "install the project first: pip install -e '.[demo]'"
    )


def fix_copy(fixer: list[str], workdir: Path) -> Path:
    """Copy services.py into ``workdir``, run ``oncommit-fix`` on the copy, return its path."""
    copy = workdir / "services.py"
    shutil.copyfile(SERVICES, copy)
    before = copy.read_text(encoding="utf-8")
    command = [*fixer, str(copy)]
    print("$ " + " ".join(command), flush=True)
    try:
        proc = subprocess.run(
            command, cwd=workdir, capture_output=True, text=True, timeout=FIXER_TIMEOUT, check=False
        )
    except OSError as exc:
        raise DemoError(f"cannot run oncommit-fix: {exc}") from exc
    except subprocess.TimeoutExpired as exc:
        raise DemoError(f"oncommit-fix did not finish in {FIXER_TIMEOUT:.0f} s") from exc
    for line in (proc.stdout + proc.stderr).splitlines():
        print("  " + line)
    after = copy.read_text(encoding="utf-8")
    changed = after != before
    # Contract: exit 1 when it changed files, 0 when there was nothing to change, 2 on errors.
    if proc.returncode not in (0, 1) or (proc.returncode == 1 and not changed):
        raise DemoError(f"oncommit-fix failed (exit {proc.returncode}) without fixing {copy}")
    if not changed:
        print("warning: oncommit-fix changed nothing; the 'after' run uses the original code")
    else:
        diff = difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            "raceapp/services.py",
            "raceapp/services.py (fixed)",
        )
        sys.stdout.writelines(diff)
    return copy


def import_file(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise DemoError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def setup_django(db_path: Path) -> None:
    """Point the project at a fresh database file, migrate it and switch it to WAL."""
    os.environ["RACE_DEMO_DB"] = str(db_path)
    os.environ["DJANGO_SETTINGS_MODULE"] = "raceapp.settings"
    sys.path.insert(0, str(HERE))

    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    # WAL is a property of the file: every later connection uses it. Readers
    # never wait for the writer and see the last committed state.
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode=WAL")
        mode = cursor.fetchone()[0]
    if str(mode).lower() != "wal":
        raise DemoError(f"SQLite refused WAL mode (got {mode!r})")


def run_requests(send_msg: Callable[..., object], label: str, n: int) -> int:
    """Run the request ``n`` times, one after another; return how many tasks missed their row."""
    from raceapp import outcomes

    missed = 0
    for i in range(n):
        msgid = f"{label}-{i}-{uuid.uuid4().hex[:8]}"
        send_msg("+15550100", f"hello {i}", msgid)
        found = outcomes.wait_for(msgid, timeout=TASK_TIMEOUT)
        if found is None:
            raise DemoError(f"the worker did not run the task for {msgid} within {TASK_TIMEOUT:.0f} s")
        missed += not found
        print("." if found else "x", end="", flush=True)
    print(f"  {label}: {missed}/{n} tasks missed their row")
    return missed


def start_guard() -> Any:
    """The test-suite guard, watching the Celery sends and the atomic blocks of this process."""
    try:
        from flake8_oncommit.runtime import Guard
    except ImportError as exc:
        raise DemoError(f"--guard needs flake8-oncommit installed: {exc}") from exc
    return Guard(root=HERE).start()


def guard_verdict(guard: Any) -> bool:
    """Print the guard's report; True when it saw the original's race and nothing else."""
    guard.stop()
    print(guard.report())
    sites = {(Path(f.send.filename).resolve(), f.code) for f in guard.findings}
    return sites == {(SERVICES.resolve(), "OC101")}


def run(n: int, workdir: Path, guard_on: bool = False) -> int:
    fixer = find_fixer()
    guard = start_guard() if guard_on else None
    setup_django(workdir / "db.sqlite3")

    from celery.contrib.testing.worker import start_worker
    from django.db import connections
    from raceapp import services
    from raceapp.celery import app

    try:
        with start_worker(
            app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=15
        ):
            print(
                f"worker running; {n} requests with raceapp/services.py as written (x = task missed its row)"
            )
            before = run_requests(services.send_msg, "before", n)

            fixed_dir = workdir / "fixed"
            fixed_dir.mkdir()
            fixed = import_file(fix_copy(fixer, fixed_dir), "raceapp_services_fixed")
            print(f"{n} requests with the fixed copy")
            after = run_requests(fixed.send_msg, "after", n)
    finally:
        connections.close_all()

    guard_ok = guard_verdict(guard) if guard is not None else True
    print(f"before fix: {before}/{n} tasks missed their row; after fix: {after}/{n}")
    return 0 if before > 0 and after == 0 and guard_ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="requests per run (default 20)")
    parser.add_argument(
        "--guard", action="store_true", help="run the scenario under the test-suite guard, print its report"
    )
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")
    workdir = Path(tempfile.mkdtemp(prefix="oncommit-race-"))
    try:
        return run(args.n, workdir, guard_on=args.guard)
    except DemoError as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
