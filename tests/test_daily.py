"""Daily use on a real codebase (issue 12), through the front ends where each was seen.

oncommit-fix runs as its console script, flake8 as users run it (a
subprocess, configuration in the temporary project), the library API
in-process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from samples import BAD

from flake8_oncommit import ParseError, check_source, fix_source

SCRIPT = Path(sys.executable).with_name("oncommit-fix")


def oncommit_fix(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key not in _COLOUR_ENV}
    environment.update(env or {})
    return subprocess.run(
        [str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=environment
    )


def flake8(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flake8", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


#: Set in CI logs and by developers; the tests say what they want.
_COLOUR_ENV = ("NO_COLOR", "FORCE_COLOR", "FORCE_HYPERLINK", "PRE_COMMIT")


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def codes(output: str) -> list[str]:
    """``path:line:col CODE`` of each finding line."""
    found = []
    for line in output.splitlines():
        parts = line.split(" ", 2)
        if len(parts) >= 2 and parts[1].startswith("OC"):
            found.append(f"{parts[0]} {parts[1]}")
    return found


# --------------------------------------------------------------------------
# Bug 1: OC105 across modules through a helper's own atomic block

HELPERS = {
    "manage.py": "",
    "app/__init__.py": "",
    "app/tasks.py": """\
        from celery import shared_task


        @shared_task
        def send(o):
            pass
        """,
    "app/helpers.py": """\
        from django.db import transaction

        from app.tasks import send


        def notify(o):
            send.delay(o)


        def place_atomic(o):
            with transaction.atomic():
                notify(o)
        """,
    "app/services.py": """\
        from django.db import transaction

        from app.helpers import place_atomic


        @transaction.atomic
        def b(o):
            place_atomic(o)
        """,
}

CHAIN = (
    "place_atomic() enqueues a task before commit (place_atomic() at app/helpers.py:10 -> "
    "notify() at app/helpers.py:6 -> send.delay() at app/helpers.py:7)"
)


def test_oc105_across_modules_through_the_helpers_own_atomic_block(tmp_path: Path) -> None:
    project = write(tmp_path, HELPERS)
    proc = oncommit_fix("--check", "--no-cache", "app", cwd=project)
    assert "app/services.py:8:5: OC105 " + CHAIN in proc.stdout, proc.stdout + proc.stderr
    assert "app/helpers.py:12:9: OC105 notify() enqueues a task before commit" in proc.stdout
    plugin = flake8("--select=OC", "app", cwd=project)
    assert "app/services.py:8:5: OC105 " + CHAIN in plugin.stdout, plugin.stdout + plugin.stderr


FIXED_HELPER = """\
    from django.db import transaction

    from shop.tasks import send


    def helper(o):
        with transaction.atomic():
            send.delay(o)


    @transaction.atomic
    def place(o):
        helper(o)
        r = send.delay(o)
        return r
    """


def test_write_mode_reports_what_the_rewrite_still_has_at_its_lines(tmp_path: Path) -> None:
    """Bugs 1 and 2: the OC105 the fix resolved is gone; the line printed is the line on disk."""
    project = write(tmp_path, {"shop/services.py": FIXED_HELPER})
    before = oncommit_fix("--check", "shop", cwd=project)
    assert [c.split(":", 1)[1] for c in codes(before.stdout)] == ["8:9: OC101", "13:5: OC105", "14:9: OC101"]
    proc = oncommit_fix("--show-source", "shop", cwd=project)
    assert proc.returncode == 1
    left = codes(proc.stdout)
    assert left == ["shop/services.py:16:9: OC101"], proc.stdout
    assert "\n        r = send.delay(o)\n" in proc.stdout  # --show-source quotes the file as written
    on_disk = (project / "shop" / "services.py").read_text().splitlines()
    assert on_disk[16 - 1].strip() == "r = send.delay(o)"
    assert "1 left to fix by hand (OC101 x1)" in proc.stderr
    assert "fixed shop/services.py (1)" in proc.stderr
    again = oncommit_fix("--check", "shop", cwd=project)
    assert codes(again.stdout) == left


# --------------------------------------------------------------------------
# Bug 3: --diff and machine formats


def test_diff_with_json_keeps_stdout_parseable_and_marks_would_be_fixed(tmp_path: Path) -> None:
    project = write(tmp_path, {"shop/services.py": FIXED_HELPER})
    proc = oncommit_fix("--diff", "--format", "json", "shop", cwd=project)
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert report["mode"] == "diff"
    assert [(f["line"], f["code"], f["fixed"]) for f in report["findings"]] == [
        (8, "OC101", True),
        (13, "OC105", False),
        (14, "OC101", False),
    ]
    assert "+from functools import partial" in proc.stderr  # the diff, on stderr
    to_file = oncommit_fix("--diff", "--format", "json", "--output", "r.json", "shop", cwd=project)
    assert "+from functools import partial" in to_file.stdout
    assert json.loads((project / "r.json").read_text())["mode"] == "diff"


def test_write_mode_json_and_sarif_list_what_was_fixed(tmp_path: Path) -> None:
    project = write(tmp_path, {"a.py": BAD, "b.py": BAD})
    proc = oncommit_fix("--format", "json", "a.py", cwd=project)
    report = json.loads(proc.stdout)
    assert report["mode"] == "fix"
    assert [(f["line"], f["code"], f["fixed"]) for f in report["findings"]] == [(9, "OC101", True)]
    sarif = json.loads(oncommit_fix("--format", "sarif", "b.py", cwd=project).stdout)
    (result,) = sarif["runs"][0]["results"]
    assert (result["kind"], result["level"], result["properties"]["fixed"]) == ("pass", "none", True)


# --------------------------------------------------------------------------
# Bug 4: the library API and text it cannot parse


@pytest.mark.parametrize("text", ["def f(:\n  atomic\n", "x = (\n", "class\n"])
def test_library_raises_parse_error_even_when_the_precheck_would_skip(text: str) -> None:
    with pytest.raises(ParseError):
        check_source(text)
    with pytest.raises(ParseError):
        fix_source(text)


def test_library_still_accepts_what_the_precheck_skips() -> None:
    assert check_source("x = 1\n") == []
    assert fix_source("x = 1\n") == "x = 1\n"
    # The motivating example's legacy ``async(...)`` is not Python 3.7+ but is understood.
    assert check_source("async('x')\n") == []


# --------------------------------------------------------------------------
# Bug 6: output under pre-commit, which runs the hook once per batch


@pytest.mark.heavy
def test_settings_notes_only_on_request_and_batches_say_only_what_they_did(tmp_path: Path) -> None:
    project = write(
        tmp_path,
        {
            "manage.py": "",
            "proj/settings.py": 'DATABASES = {"default": {"ATOMIC_REQUESTS": True}}\n',
            "blog/views.py": "from blog.tasks import mail\n\n\ndef add(request):\n    mail.delay(1)\n",
            "blog/clean.py": "X = 1\n",
        },
    )
    proc = oncommit_fix("--check", "blog", cwd=project)
    assert "ATOMIC_REQUESTS is on" not in proc.stderr  # stderr is not a terminal here
    assert "(ATOMIC_REQUESTS, proj/settings.py:1)" in proc.stdout  # the finding says it
    assert "2 files checked" in proc.stderr
    verbose = oncommit_fix("--check", "--verbose", "blog", cwd=project)
    assert "oncommit-fix: ATOMIC_REQUESTS is on (proj/settings.py:1)" in verbose.stderr
    batch = oncommit_fix("--check", "blog/views.py", cwd=project, env={"PRE_COMMIT": "1"})
    assert batch.stderr.splitlines() == ["oncommit-fix: 1 found (OC106 x1)"]
    clean_batch = oncommit_fix("--check", "blog/clean.py", cwd=project, env={"PRE_COMMIT": "1"})
    assert (clean_batch.returncode, clean_batch.stdout, clean_batch.stderr) == (0, "", "")


# --------------------------------------------------------------------------
# Bug 7: the command line's --select wins over the file


@pytest.mark.heavy
def test_cli_select_reenables_a_code_the_file_ignores(tmp_path: Path) -> None:
    project = write(tmp_path, HELPERS)
    (project / "pyproject.toml").write_text('[tool.flake8-oncommit]\nignore = ["OC105"]\n')
    assert codes(oncommit_fix("--check", "app", cwd=project).stdout) == []
    selected = oncommit_fix("--check", "--select", "OC105", "app", cwd=project)
    assert len(codes(selected.stdout)) == 2, selected.stdout + selected.stderr
    # --ignore alone adds to the file's ignore.
    (project / "pyproject.toml").write_text('[tool.flake8-oncommit]\nignore = ["OC101"]\n')
    assert codes(oncommit_fix("--check", "--ignore", "OC105", "app", cwd=project).stdout) == []
    # flake8: a specific --select re-enables it too; the broad OC prefix does not.
    (project / "pyproject.toml").write_text('[tool.flake8-oncommit]\nignore = ["OC105"]\n')
    assert codes(flake8("--select=OC", "app", cwd=project).stdout) == []
    assert len(codes(flake8("--select=OC105", "app", cwd=project).stdout)) == 2


# --------------------------------------------------------------------------
# Bug 8: flake8 --oncommit-atomic-requests alone

VIEW = "from blog.tasks import mail\n\n\ndef add(request):\n    mail.delay(1)\n"


def test_flake8_bare_atomic_requests_does_not_swallow_the_path(tmp_path: Path) -> None:
    project = write(tmp_path, {"blog/views.py": VIEW})
    proc = flake8("--select=OC", "--oncommit-atomic-requests", "blog/views.py", cwd=project)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert codes(proc.stdout) == ["blog/views.py:5:5: OC106"]
    off = flake8("--select=OC", "--oncommit-atomic-requests", "false", "blog/views.py", cwd=project)
    assert (off.returncode, off.stdout) == (0, "")
    bad = flake8("--select=OC", "--oncommit-atomic-requests", "maybe", "blog/views.py", cwd=project)
    assert bad.returncode == 2 and "expected true, false or auto, got 'maybe'" in bad.stderr


# --------------------------------------------------------------------------
# atomic-requests defaults to auto


@pytest.mark.heavy
def test_atomic_requests_is_auto_by_default_in_both_front_ends(tmp_path: Path) -> None:
    project = write(tmp_path, {"manage.py": "", "blog/views.py": VIEW})
    assert oncommit_fix("--check", "blog", cwd=project).stdout == ""
    assert flake8("--select=OC", "blog", cwd=project).stdout == ""
    (project / "proj").mkdir()
    (project / "proj" / "settings.py").write_text('DATABASES = {"default": {"ATOMIC_REQUESTS": True}}\n')
    message = (
        "blog/views.py:5:5: OC106 mail.delay() enqueued in a view, inside the request transaction "
        "(ATOMIC_REQUESTS, proj/settings.py:1); a worker may run it before commit"
    )
    assert message in oncommit_fix("--check", "blog", cwd=project).stdout
    assert message in flake8("--select=OC", "blog", cwd=project).stdout
    assert oncommit_fix("--check", "--atomic-requests=false", "blog", cwd=project).stdout == ""


# --------------------------------------------------------------------------
# Messages that say where

WHERE = """\
    from django.contrib import admin
    from django.db import transaction

    from shop.tasks import send


    @transaction.atomic
    def place(o):
        send.delay(o)


    def other(o):
        with transaction.atomic(using="default"):
            send.delay(o)
        ctx = transaction.atomic()
        with ctx:
            send.delay(o)


    class OrderAdmin(admin.ModelAdmin):
        def save_model(self, request, obj, form, change):
            send.delay(obj.pk)


    async def hook(task):
        with transaction.atomic():
            await task.aenqueue()
    """


def test_oc101_names_where_the_transaction_opens(tmp_path: Path) -> None:
    project = write(tmp_path, {"shop/services.py": WHERE})
    lines = oncommit_fix("--check", "shop", cwd=project).stdout.splitlines()
    wheres = [line.split(" enqueued inside ", 1)[1].split(" before commit")[0] for line in lines]
    assert wheres == [
        "@transaction.atomic at line 7",
        "transaction.atomic() opened at line 13",
        "the atomic block ctx opened at line 16",
        "ModelAdmin.save_model, which Django runs in a transaction,",
        "transaction.atomic() opened at line 26",
    ]
    assert lines[-1].endswith(
        "(not auto-fixable: it is awaited: on_commit() cannot run a coroutine (use the synchronous call))"
    )


# --------------------------------------------------------------------------
# Exclusions


def _tree(root: Path) -> Path:
    for name in ("shop/views.py", "shop/legacy/old.py", "shop/out/gen.py", "generated/x.py", "shop/a_pb2.py"):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(BAD)
    return root


def _paths(output: str) -> list[str]:
    return sorted(line.split(":", 1)[0].removeprefix("./") for line in codes(output))


@pytest.mark.heavy
def test_exclude_extend_exclude_and_per_file_ignores(tmp_path: Path) -> None:
    project = _tree(tmp_path)
    every = _paths(oncommit_fix("--check", ".", cwd=project).stdout)
    assert every == sorted(
        ["generated/x.py", "shop/a_pb2.py", "shop/legacy/old.py", "shop/out/gen.py", "shop/views.py"]
    )
    (project / "pyproject.toml").write_text(
        "[tool.flake8-oncommit]\n"
        'extend-exclude = ["shop/out", "*_pb2.py"]\n'
        'per-file-ignores = {"shop/legacy/*.py" = ["OC101"]}\n'
    )
    assert _paths(oncommit_fix("--check", ".", cwd=project).stdout) == ["generated/x.py", "shop/views.py"]
    # The same as flags, anchored at the current directory; flags win over the file.
    flags = oncommit_fix(
        "--check",
        "--isolated",
        "--exclude=generated,.git",
        "--per-file-ignores=shop/legacy/*.py:OC101 shop/out/*:OC1",
        ".",
        cwd=project,
    )
    assert _paths(flags.stdout) == ["shop/a_pb2.py", "shop/views.py"]
    # flake8 chose the files; the pyproject's exclusions and per-file-ignores still apply to OC codes.
    plugin = flake8("--select=OC", ".", cwd=project)
    assert _paths(plugin.stdout) == ["generated/x.py", "shop/views.py"]


def test_per_file_ignores_also_stop_the_fix(tmp_path: Path) -> None:
    project = _tree(tmp_path)
    (project / "pyproject.toml").write_text(
        '[tool.flake8-oncommit]\nper-file-ignores = {"shop/legacy/*.py" = ["OC1"]}\n'
    )
    oncommit_fix("shop/legacy", cwd=project)
    assert (project / "shop" / "legacy" / "old.py").read_text() == BAD


@pytest.mark.heavy
def test_force_exclude_applies_to_explicit_paths(tmp_path: Path) -> None:
    project = _tree(tmp_path)
    (project / "pyproject.toml").write_text('[tool.flake8-oncommit]\nextend-exclude = ["shop/out"]\n')
    named = ["shop/out/gen.py", "shop/views.py"]
    assert _paths(oncommit_fix("--check", *named, cwd=project).stdout) == named
    forced = oncommit_fix("--check", "--force-exclude", *named, cwd=project)
    assert _paths(forced.stdout) == ["shop/views.py"]
    (project / "pyproject.toml").write_text(
        '[tool.flake8-oncommit]\nextend-exclude = ["shop/out"]\nforce-exclude = true\n'
    )
    assert _paths(oncommit_fix("--check", *named, cwd=project).stdout) == ["shop/views.py"]
    alone = oncommit_fix("--check", "shop/out/gen.py", cwd=project)
    assert alone.returncode == 0 and "no Python files found in shop/out/gen.py" in alone.stderr


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.mark.heavy
def test_gitignore_is_respected_when_walking_a_work_tree(tmp_path: Path) -> None:
    if subprocess.run(["git", "--version"], capture_output=True).returncode != 0:
        pytest.skip("git is not installed")
    project = _tree(tmp_path)
    git("init", "-q", cwd=project)
    (project / ".gitignore").write_text("generated/\n*_pb2.py\n")
    assert _paths(oncommit_fix("--check", ".", cwd=project).stdout) == [
        "shop/legacy/old.py",
        "shop/out/gen.py",
        "shop/views.py",
    ]
    # From a subdirectory, the parent's .gitignore still applies.
    assert _paths(oncommit_fix("--check", "shop", cwd=project).stdout) == [
        "shop/legacy/old.py",
        "shop/out/gen.py",
        "shop/views.py",
    ]
    assert len(_paths(oncommit_fix("--check", "--no-respect-gitignore", ".", cwd=project).stdout)) == 5
    # An ignored file named on the command line is still checked (as ruff does).
    assert _paths(oncommit_fix("--check", "generated/x.py", cwd=project).stdout) == ["generated/x.py"]
    # Without git on PATH the walk goes on, ignoring nothing.
    no_git = oncommit_fix("--check", ".", cwd=project, env={"PATH": str(Path(sys.executable).parent)})
    assert "Traceback" not in no_git.stderr
    assert len(_paths(no_git.stdout)) == 5


def test_a_path_without_python_files_warns_and_exits_0(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# docs\n")
    proc = oncommit_fix("--check", "docs", cwd=tmp_path)
    assert proc.returncode == 0
    assert "warning: no Python files found in docs" in proc.stderr


# --------------------------------------------------------------------------
# Configuration errors name the key


@pytest.mark.heavy
@pytest.mark.parametrize(
    ("pyproject", "message"),
    [
        ('per-file-ignores = {"a/*.py" = ["XX1"]}', "per-file-ignores: a/*.py: unknown code 'XX1'"),
        ('respect-gitignore = "sometimes"', "respect-gitignore: expected true or false, got 'sometimes'"),
        ("extend-exclude = 3", "extend-exclude: expected a list of strings, got 3"),
        ("exclud = []", "unknown key 'exclud' (did you mean 'exclude'?)"),
    ],
)
def test_bad_exclusion_settings_exit_2_naming_the_key(tmp_path: Path, pyproject: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.flake8-oncommit]\n{pyproject}\n")
    (tmp_path / "a.py").write_text(BAD)
    proc = oncommit_fix("--check", "a.py", cwd=tmp_path)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    plugin = flake8("--select=OC", "a.py", cwd=tmp_path)
    assert plugin.returncode == 2 and message in plugin.stderr, plugin.stderr


def test_bad_per_file_ignores_flag_exits_2(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(BAD)
    proc = oncommit_fix("--check", "--per-file-ignores", "OC101", "a.py", cwd=tmp_path)
    assert proc.returncode == 2 and "per-file-ignores: 'OC101' has no 'pattern:' before it" in proc.stderr


# --------------------------------------------------------------------------
# One configuration for both front ends

WRAPPED = """\
    from django.db import transaction

    from myapp.tasks import offload_task


    @transaction.atomic
    def place(order):
        offload_task("orders.confirm", order.pk)
    """


@pytest.mark.heavy
def test_flake8_reads_the_pyproject_and_its_own_options_win(tmp_path: Path) -> None:
    project = write(tmp_path, {"app.py": WRAPPED})
    assert flake8("--select=OC", "app.py", cwd=project).stdout == ""
    (project / "pyproject.toml").write_text(
        '[tool.flake8-oncommit]\nenqueue-functions = ["myapp.tasks.offload_task"]\n'
    )
    assert codes(flake8("--select=OC", "app.py", cwd=project).stdout) == ["app.py:8:5: OC101"]
    assert codes(oncommit_fix("--check", "app.py", cwd=project).stdout) == ["app.py:8:5: OC101"]
    # The flake8 option wins over the pyproject key.
    won = flake8("--select=OC", "--oncommit-enqueue-functions=other.thing", "app.py", cwd=project)
    assert won.stdout == ""
    assert flake8("--select=OC", "--isolated", "app.py", cwd=project).stdout == ""


# --------------------------------------------------------------------------
# --add-noqa

BACKLOG = """\
    from django.db import transaction

    from shop.tasks import send


    @transaction.atomic
    def place(order):
        r = send.delay(order.pk)  # keep me
        x = send.apply_async(
            args=(order.pk,),
        )
        y = send.delay(\"\"\"a
    b\"\"\", 1)
        z = send.delay(1) \\
            + 2
        w = send.delay(2)  # noqa: E501
        send.delay(3)
        return r, x, y, z, w
    """


@pytest.mark.heavy
def test_add_noqa_then_check_is_clean_in_both_front_ends(tmp_path: Path) -> None:
    project = write(tmp_path, {"shop/views.py": BACKLOG})
    proc = oncommit_fix("--add-noqa", "shop", cwd=project)
    assert proc.returncode == 1, proc.stderr
    assert "1 fixed in 1 file; 5 noqa comments added in 1 file" in proc.stderr
    text = (project / "shop" / "views.py").read_text()
    assert "    r = send.delay(order.pk)  # keep me  # noqa: OC101\n" in text
    assert "    x = send.apply_async(  # noqa: OC101\n" in text
    assert 'b""", 1)  # noqa: OC101\n' in text
    assert "        + 2  # noqa: OC101\n" in text
    assert "    w = send.delay(2)  # noqa: E501, OC101\n" in text
    assert "    transaction.on_commit(partial(send.delay, 3))\n" in text
    check = oncommit_fix("--check", "shop", cwd=project)
    assert (check.returncode, check.stdout) == (0, "")
    assert flake8("--select=OC", "shop", cwd=project).stdout == ""
    again = oncommit_fix("--add-noqa", "shop", cwd=project)
    assert again.returncode == 0
    assert (project / "shop" / "views.py").read_text() == text
    refused = oncommit_fix("--add-noqa", "--check", "shop", cwd=project)
    assert refused.returncode == 2


def test_report_unused_noqa(tmp_path: Path) -> None:
    project = write(
        tmp_path,
        {
            "stale.py": "import os  # noqa: OC101, F401\nx = 1  # noqa: OC1\ny = 2  # noqa\n",
            "used.py": BAD.replace("order.pk)\n", "order.pk)  # noqa: OC101\n"),
        },
    )
    proc = oncommit_fix("--check", "--report-unused-noqa", ".", cwd=project)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        "./stale.py:1:12: OC100 unused noqa: nothing here is reported as OC101 - remove it",
        "./stale.py:2:8: OC100 unused noqa: nothing here is reported as OC1 - remove it",
    ]
    assert oncommit_fix("--check", ".", cwd=project).returncode == 0  # only on request
    # A code of a rule this run does not check may be needed by another configuration.
    narrow = oncommit_fix("--check", "--report-unused-noqa", "--select", "OC102", "stale.py", cwd=project)
    assert narrow.stdout == ""


# --------------------------------------------------------------------------
# Output: colour, links, summary, statistics, explain


def test_colour_and_links_follow_the_conventions(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(BAD)
    plain = oncommit_fix("--check", "a.py", cwd=tmp_path)
    assert "\x1b[" not in plain.stdout + plain.stderr  # not a terminal
    forced = oncommit_fix("--check", "a.py", cwd=tmp_path, env={"FORCE_COLOR": "1"})
    assert "\x1b[1;31mOC101\x1b[0m" in forced.stdout
    assert "\x1b]8;;" not in forced.stdout  # links only on a terminal (or asked for)
    linked = oncommit_fix("--check", "a.py", cwd=tmp_path, env={"FORCE_COLOR": "1", "FORCE_HYPERLINK": "1"})
    assert "\x1b]8;;https://" in linked.stdout and "docs/rules.md#oc101\x1b\\" in linked.stdout
    no_color = oncommit_fix("--check", "a.py", cwd=tmp_path, env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert "\x1b[" not in no_color.stdout
    assert "\x1b[" in oncommit_fix("--check", "--color=always", "a.py", cwd=tmp_path).stdout


def test_statistics_explain_and_the_summary(tmp_path: Path) -> None:
    project = write(
        tmp_path, {"a.py": BAD, "b.py": FIXED_HELPER, "broken.py": "import x\ndef f(:\n  atomic\n"}
    )
    (project / "latin.py").write_bytes(b"# caf\xe9\n")
    proc = oncommit_fix("--check", "--statistics", ".", cwd=project)
    stats = [line for line in proc.stdout.splitlines() if not line.startswith("./")]
    assert stats == [
        "3     OC101 enqueue-in-atomic",
        "1     OC105 enqueue-through-helper",
        "2     OC000 cannot-read-or-parse",
    ]
    assert proc.stderr.rstrip().endswith(
        "oncommit-fix: 4 found (OC101 x3, OC105 x1); 1 file could not be parsed; 1 file could not be read; "
        "4 files checked"
    )
    explained = oncommit_fix("--explain", "oc101", cwd=project)
    assert explained.returncode == 0
    assert explained.stdout.startswith("## OC101\n\n`enqueue-in-atomic`")
    assert "### Why" in explained.stdout and "docs/rules.md#oc101" in explained.stdout
    unknown = oncommit_fix("--explain", "OC999", cwd=project)
    assert unknown.returncode == 2 and "unknown code 'OC999'" in unknown.stderr
