"""oncommit-fix through its installed console script, as users run it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from samples import BAD

SCRIPT = Path(sys.executable).with_name("oncommit-fix")


GOOD = BAD.replace(
    "    send_confirmation.delay(order.pk)\n",
    "    transaction.on_commit(partial(send_confirmation.delay, order.pk))\n",
).replace(
    "from django.db import transaction\n",
    "from functools import partial\n\nfrom django.db import transaction\n",
)

UNFIXABLE = """\
from django.db import transaction

from shop.tasks import send_confirmation


@transaction.atomic
def place_order(order):
    result = send_confirmation.delay(order.pk)
    return result.id
"""

#: Only files that mention what the tool looks for are parsed at all.
BROKEN = "from django.db import transaction\n\n@transaction.atomic\ndef broken(:\n    task.delay()\n"

CLEAN = "def add(a, b):\n    return a + b\n"

#: The motivating example from SPEC.md, verbatim (Python 3.6 syntax).
LEGACY = """\
@transaction.atomic
def send_msg(recipient, text, msgid=None, queue=False):
    msg = Message.objects.get_or_create(msgid=msgid)
    if queue:
        async('send_msg', recipient, text, msg.msgid, queue=False)
        msg.status = 'QUEUED'
        msg.save()
        return msg
    # pass msg to backend gateway
    send_to_gateway(recipient, msg)
"""


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert SCRIPT.exists(), f"console script not installed next to {sys.executable}"
    return subprocess.run([str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "services.py").write_text(BAD)
    (tmp_path / "shop" / "clean.py").write_text(CLEAN)
    return tmp_path


def test_fix_rewrites_and_exits_1_then_0(project: Path) -> None:
    first = run("shop", cwd=project)
    assert first.returncode == 1, first.stderr
    assert (project / "shop" / "services.py").read_text() == GOOD
    assert "1 fixed in 1 file" in first.stderr
    second = run("shop", cwd=project)
    assert second.returncode == 0, second.stdout + second.stderr
    assert second.stdout == ""


def test_check_reports_and_writes_nothing(project: Path) -> None:
    proc = run("--check", "shop", cwd=project)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        "shop/services.py:9:5: OC101 send_confirmation.delay() enqueued inside @transaction.atomic at line 6 "
        "before "
        "commit; a worker may run it before the data is visible - defer it with transaction.on_commit()"
    ]
    assert (project / "shop" / "services.py").read_text() == BAD


def test_check_clean_tree_exits_0(project: Path) -> None:
    proc = run("--check", "shop/clean.py", cwd=project)
    assert (proc.returncode, proc.stdout) == (0, "")


def test_check_marks_unfixable_findings(tmp_path: Path) -> None:
    (tmp_path / "views.py").write_text(UNFIXABLE)
    proc = run("--check", "views.py", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout.rstrip().endswith("(not auto-fixable: its result is used)")
    fix = run("views.py", cwd=tmp_path)
    assert fix.returncode == 1  # a finding is left to fix by hand
    assert (tmp_path / "views.py").read_text() == UNFIXABLE
    assert "left to fix by hand" in fix.stderr


def test_diff_prints_and_writes_nothing(project: Path) -> None:
    proc = run("--diff", "shop", cwd=project)
    assert proc.returncode == 1
    assert "--- shop/services.py" in proc.stdout
    assert "+    transaction.on_commit(partial(send_confirmation.delay, order.pk))" in proc.stdout
    assert "+from functools import partial" in proc.stdout
    assert (project / "shop" / "services.py").read_text() == BAD


def test_directory_walk_skips_vcs_virtualenvs_and_node_modules(project: Path) -> None:
    for skipped in (".git/hooks", "node_modules/pkg", ".venv/lib", "env/lib", "build/lib"):
        directory = project / "shop" / skipped
        directory.mkdir(parents=True)
        (directory / "bad.py").write_text(BAD)
    (project / "shop" / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    proc = run("--check", "shop", cwd=project)
    assert [line.split(":")[0] for line in proc.stdout.splitlines()] == ["shop/services.py"]


def test_a_django_app_named_build_is_walked(project: Path) -> None:
    """``build``/``dist`` are skipped as build output, not when they are packages (a Django app)."""
    app = project / "shop" / "build"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "models.py").write_text(BAD)
    proc = run("--check", "shop", cwd=project)
    assert sorted(line.split(":")[0] for line in proc.stdout.splitlines()) == [
        "shop/build/models.py",
        "shop/services.py",
    ]


def test_unparsable_file_is_reported_and_the_others_still_fixed(project: Path) -> None:
    (project / "shop" / "broken.py").write_text(BROKEN)
    proc = run("shop", cwd=project)
    assert proc.returncode == 1
    assert "shop/broken.py:4:12: OC000 cannot parse: SyntaxError: invalid syntax" in proc.stdout
    assert (project / "shop" / "services.py").read_text() == GOOD
    assert (project / "shop" / "broken.py").read_text() == BROKEN


def test_legacy_async_example_is_reported_and_migrated(tmp_path: Path) -> None:
    (tmp_path / "legacy.py").write_text(LEGACY)
    check = run("--check", "legacy.py", cwd=tmp_path)
    assert check.returncode == 1
    assert check.stdout.startswith(
        "legacy.py:5:9: OC101 async() enqueued inside @transaction.atomic at line 1"
    )
    fix = run("legacy.py", cwd=tmp_path)
    assert fix.returncode == 1, fix.stderr
    fixed = (tmp_path / "legacy.py").read_text()
    assert "from django_q.tasks import async_task\n" in fixed
    deferred = (
        "transaction.on_commit(partial(async_task, 'send_msg', recipient, text, msg.msgid, queue=False))"
    )
    assert f"        {deferred}\n" in fixed
    assert "async(" not in fixed
    compile(fixed, "legacy.py", "exec")
    assert run("legacy.py", cwd=tmp_path).returncode == 0


def test_noqa_is_honoured(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(BAD.replace("(order.pk)\n", "(order.pk)  # noqa: OC101\n"))
    assert run("--check", "a.py", cwd=tmp_path).returncode == 0


def test_line_endings_encoding_bom_and_mode_are_kept(tmp_path: Path) -> None:
    crlf = tmp_path / "crlf.py"
    crlf.write_bytes(BAD.replace("\n", "\r\n").encode())
    latin = tmp_path / "latin.py"
    latin.write_bytes(("# -*- coding: latin-1 -*-\n# caf\xe9\n" + BAD).encode("latin-1"))
    bom = tmp_path / "bom.py"
    bom.write_bytes(b"\xef\xbb\xbf" + BAD.encode())
    os.chmod(crlf, 0o755)
    proc = run(".", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert crlf.read_bytes() == GOOD.replace("\n", "\r\n").encode()
    assert stat.S_IMODE(crlf.stat().st_mode) == 0o755
    assert latin.read_bytes() == ("# -*- coding: latin-1 -*-\n# caf\xe9\n" + GOOD).encode("latin-1")
    assert bom.read_bytes() == b"\xef\xbb\xbf" + GOOD.encode()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_select_limits_what_is_reported(project: Path) -> None:
    proc = run("--check", "--select", "OC102", "shop", cwd=project)
    assert (proc.returncode, proc.stdout) == (0, "")


def test_json_output_to_file(project: Path) -> None:
    proc = run("--check", "--format", "json", "--output", "report.json", "shop", cwd=project)
    assert proc.returncode == 1
    report = json.loads((project / "report.json").read_text())
    assert [(f["path"], f["line"], f["code"], f["fixable"]) for f in report["findings"]] == [
        ("shop/services.py", 9, "OC101", True)
    ]


def test_usage_and_configuration_errors_exit_2(project: Path) -> None:
    assert run(cwd=project).returncode == 2
    bad_style = run("--style", "lambda", "shop", cwd=project)
    assert bad_style.returncode == 2
    (project / "pyproject.toml").write_text('[tool.flake8-oncommit]\nenqueue-function = ["a.b"]\n')
    bad_key = run("--check", "shop", cwd=project)
    assert bad_key.returncode == 2
    assert (
        "unknown key 'enqueue-function'" in bad_key.stderr
        and "did you mean 'enqueue-functions'" in bad_key.stderr
    )
    assert run("--check", "missing-dir", cwd=project).returncode == 2


def test_python_dash_m_and_version(project: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "flake8_oncommit", "--check", "shop"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1 and "OC101" in proc.stdout
    version = run("--version", cwd=project)
    assert version.returncode == 0 and version.stdout.startswith("oncommit-fix 0.1.0")


def test_parallel_run_matches_serial(tmp_path: Path) -> None:
    for index in range(40):
        (tmp_path / f"m{index}.py").write_text(BAD if index % 3 == 0 else CLEAN)
    serial = run("--check", "--jobs", "1", ".", cwd=tmp_path)
    parallel = run("--check", "--jobs", "2", ".", cwd=tmp_path)
    assert serial.returncode == parallel.returncode == 1
    assert sorted(serial.stdout.splitlines()) == sorted(parallel.stdout.splitlines())
    assert len(serial.stdout.splitlines()) == 14


def test_an_internal_error_on_one_file_is_reported_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug of the tool on one file: OC000 for that file, untouched; the others still fixed."""
    from flake8_oncommit import cli, engine

    real_analyse = engine.analyse_text

    def flaky(text: str, *args: object, **kwargs: object) -> object:
        if "explode" in text:
            raise ValueError("boom")
        return real_analyse(text, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "analyse_text", flaky)
    bad = tmp_path / "bad.py"
    bad.write_text("# explode\n" + BAD)
    good = tmp_path / "good.py"
    good.write_text(BAD)
    status = cli.main(["--jobs", "1", str(bad), str(good)])
    assert status == 1
    assert bad.read_text() == "# explode\n" + BAD
    assert good.read_text() != BAD
    result = cli.process(str(bad), cli.Job(cli.Config(), "check", False, str(tmp_path)))
    assert [f.message for f in result.findings] == ["internal error: ValueError: boom (please report it)"]
