"""The plugin inside flake8, configured and driven the ways users do it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

VIEWS = """\
from functools import partial

from django.db import transaction

from shop.tasks import send_confirmation, sync


@transaction.atomic
def place_order(order):
    send_confirmation.delay(order.pk)
    transaction.on_commit(sync.delay(order.pk))
    sync.delay(order.pk, again=True)  # noqa: OC101
    transaction.on_commit(partial(sync.delay, order.pk))
"""


def flake8(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flake8", *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "views.py").write_text(VIEWS)
    (tmp_path / "shop" / "legacy.py").write_text(VIEWS)
    return tmp_path


def reported(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return sorted(line.split(" ", 2)[0] + " " + line.split(" ", 2)[1] for line in proc.stdout.splitlines())


def test_plugin_is_registered() -> None:
    proc = subprocess.run([sys.executable, "-m", "flake8", "--version"], capture_output=True, text=True)
    assert "flake8-oncommit: 0.1.0" in proc.stdout


def test_select_oc_reports_each_code_once(project: Path) -> None:
    proc = flake8("--select=OC", "shop/views.py", cwd=project)
    assert proc.returncode == 1
    assert reported(proc) == ["shop/views.py:10:5: OC101", "shop/views.py:11:27: OC102"]


def test_extend_ignore_and_per_file_ignores_from_setup_cfg(project: Path) -> None:
    (project / "setup.cfg").write_text(
        "[flake8]\nselect = OC\nextend-ignore = OC102\nper-file-ignores =\n    shop/legacy.py: OC\n"
    )
    proc = flake8("shop", cwd=project)
    assert reported(proc) == ["shop/views.py:10:5: OC101"]


def test_selecting_one_code(project: Path) -> None:
    proc = flake8("--select=OC102", "shop/views.py", cwd=project)
    assert reported(proc) == ["shop/views.py:11:27: OC102"]


def test_default_selection_includes_the_plugin(project: Path) -> None:
    # flake8 >= 6 reports plugin codes without --select, next to pycodestyle/pyflakes.
    proc = flake8("shop/views.py", cwd=project)
    assert any(" OC101 " in line for line in proc.stdout.splitlines())


def test_disable_noqa_shows_silenced_findings(project: Path) -> None:
    proc = flake8("--select=OC", "--disable-noqa", "shop/views.py", cwd=project)
    assert "shop/views.py:12:5: OC101" in reported(proc)


def test_parallel_jobs(project: Path) -> None:
    for index in range(12):
        (project / "shop" / f"m{index}.py").write_text(VIEWS)
    serial = flake8("--select=OC", "--jobs=1", "shop", cwd=project)
    parallel = flake8("--select=OC", "--jobs=2", "shop", cwd=project)
    assert reported(serial) == reported(parallel)
    assert len(reported(serial)) == 28


def test_syntax_error_is_flake8s_business(project: Path) -> None:
    (project / "shop" / "broken.py").write_text("from django.db import transaction\ndef f(:\n")
    proc = flake8("--select=OC,E999", "shop/broken.py", cwd=project)
    assert "E999" in proc.stdout and "OC" not in proc.stdout
