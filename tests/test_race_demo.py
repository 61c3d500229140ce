"""The race demo, end to end: a real Celery worker misses rows before the fix and none after.

Runs ``examples/race/demo.py`` as users run it, in a subprocess: it uses the
installed ``oncommit-fix`` console script. Needs the ``demo`` extra
(django, celery).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("django", reason="the race demo needs django: pip install -e '.[demo]'")
pytest.importorskip("celery", reason="the race demo needs celery: pip install -e '.[demo]'")

DEMO = Path(__file__).resolve().parent.parent / "examples" / "race" / "demo.py"
N = 5
SUMMARY = re.compile(r"before fix: (\d+)/(\d+) tasks missed their row; after fix: (\d+)/(\d+)")


@pytest.mark.heavy
def test_race_shows_before_the_fix_and_not_after() -> None:
    proc = subprocess.run(
        [sys.executable, str(DEMO), "--n", str(N)],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    output = f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    lines = proc.stdout.strip().splitlines()
    summary = SUMMARY.fullmatch(lines[-1]) if lines else None
    assert summary, output
    before, n_before, after, n_after = map(int, summary.groups())
    assert (n_before, n_after) == (N, N), output
    assert before > 0, output
    assert after == 0, output
    assert proc.returncode == 0, output


@pytest.mark.heavy
def test_the_guard_reports_the_race_of_the_original_and_not_the_fix() -> None:
    proc = subprocess.run(
        [sys.executable, str(DEMO), "--n", "2", "--guard"],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    output = f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    assert proc.returncode == 0, output
    services = (DEMO.parent / "raceapp" / "services.py").read_text(encoding="utf-8").splitlines()
    send = next(n for n, line in enumerate(services, 1) if "send_message.delay(" in line)
    block = next(n for n, line in enumerate(services, 1) if line.strip() == "@transaction.atomic")
    assert "flake8-oncommit guard: 1 distinct race (2 of 4 sends" in proc.stdout, output
    finding = f"raceapp/services.py:{send}: OC101 Celery task 'raceapp.tasks.send_message' enqueued"
    assert finding in proc.stdout, output
    assert f"block entered  raceapp/services.py:{block} in send_msg" in proc.stdout, output
