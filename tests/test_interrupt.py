"""Interrupting ``oncommit-fix`` while it rewrites a large tree never leaves a broken file.

A generated tree of a few hundred modules, each with several fixable
enqueues (a few much bigger ones, so some rewrites take a while), is fixed
by the console script; once the first file has been replaced, the run gets
SIGINT (to the process, or to its whole process group as a terminal's
Ctrl-C does) or SIGKILL. Afterwards every ``.py`` file must be byte for byte
either its original or its complete fixed version (computed in-process with
``fix_source``). After SIGINT no temporary file may remain; after SIGKILL
leftovers may remain but must carry the documented name
(``.<name>.oncommit-fix-<random>.tmp``), and a second run must ignore them
and finish the fix.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from samples import BAD

import flake8_oncommit.cli as cli
import flake8_oncommit.files as files
from flake8_oncommit import fix_source

pytestmark = [
    pytest.mark.heavy,
    pytest.mark.skipif(
        sys.platform == "win32" or not hasattr(os, "killpg"), reason="POSIX signals and process groups"
    ),
]

SCRIPT = Path(sys.executable).with_name("oncommit-fix")

FILES = 400
#: every BIG_EVERY-th module is ~60 functions (about 550 lines, 180 enqueues)
BIG_EVERY = 97
TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.oncommit-fix-[A-Za-z0-9_]+\.tmp$")

HEADER = "from django.db import transaction\n\nfrom shop.tasks import audit, notify, send_confirmation\n"


def _function(index: int) -> str:
    return (
        f"\n\n@transaction.atomic\ndef place_{index}(order):\n    order.save()\n"
        f"    send_confirmation.delay(order.pk, {index})\n"
        f"    notify.apply_async(args=(order.pk,), countdown={index})\n"
        f"    with transaction.atomic():\n"
        f"        audit.delay(order.pk)\n"
    )


def _module(functions: int, newline: str = "\n") -> str:
    text = HEADER + "".join(_function(index) for index in range(functions))
    return text.replace("\n", newline)


@dataclass(frozen=True)
class Variant:
    original: bytes
    fixed: bytes


@pytest.fixture(scope="module")
def variants() -> dict[str, Variant]:
    """The few distinct modules of the tree and their expected fixes (computed once)."""
    texts = {"small": _module(2), "small-crlf": _module(2, "\r\n"), "big": _module(60)}
    result = {}
    for name, text in texts.items():
        fixed = fix_source(text)
        assert fixed != text and "transaction.on_commit(partial(" in fixed
        result[name] = Variant(text.encode(), fixed.encode())
    return result


def _variant_of(index: int) -> str:
    if index % BIG_EVERY == BIG_EVERY // 2:
        return "big"
    return "small-crlf" if index % 7 == 3 else "small"


@pytest.fixture
def tree(tmp_path: Path, variants: dict[str, Variant]) -> tuple[Path, dict[Path, Variant]]:
    root = tmp_path / "tree"
    layout = {}
    for index in range(FILES):
        path = root / f"app{index // 50:02d}" / f"mod{index:04d}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        variant = variants[_variant_of(index)]
        path.write_bytes(variant.original)
        layout[path] = variant
    return root, layout


@dataclass
class Outcome:
    original: int
    fixed: int
    temps: list[Path]


def verify(root: Path, layout: dict[Path, Variant]) -> Outcome:
    """Every file its original or its complete fix; nothing else but named temp files."""
    original = fixed = 0
    broken = []
    for path, variant in layout.items():
        data = path.read_bytes()
        if data == variant.original:
            original += 1
        elif data == variant.fixed:
            fixed += 1
        else:
            broken.append(path)
    assert broken == [], f"{len(broken)} files neither original nor fixed, e.g. {broken[0]}"
    temps = []
    for path in root.rglob("*"):
        if path.is_dir() or path in layout:
            continue
        match = TEMP_NAME.match(path.name)
        assert match is not None, f"unexpected file {path}"
        assert path.parent / match.group("name") in layout, f"temp file for no source file: {path}"
        temps.append(path)
    return Outcome(original, fixed, temps)


def _group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of the group ``pgid`` (Linux /proc; empty elsewhere)."""
    members = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, group = fields[0], int(fields[2])
        if group == pgid and state not in ("Z", "X"):
            members.append(int(entry))
    return members


def _wait_group_gone(pgid: int, timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while True:
        members = _group_members(pgid)
        if not members or time.monotonic() > deadline:
            return members
        time.sleep(0.05)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture(autouse=True)
def _python_sigint_handler() -> Iterator[None]:
    """In-process tests need Python's Ctrl-C handler, even when pytest was started with SIGINT ignored."""
    saved = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, saved)


@pytest.fixture
def launch(tmp_path: Path) -> Iterator:
    """Start ``oncommit-fix`` in its own session; whatever is left of it is killed afterwards."""
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str) -> subprocess.Popen[bytes]:
        assert SCRIPT.exists(), f"console script not installed next to {sys.executable}"
        # Output to files, not pipes: a pipe held open by a stray child would block reading it.
        number = len(started)
        out = open(tmp_path / f"stdout{number}.txt", "wb")  # noqa: SIM115
        err = open(tmp_path / f"stderr{number}.txt", "wb")  # noqa: SIM115
        with out, err:
            proc = subprocess.Popen(
                [str(SCRIPT), *args],
                cwd=tmp_path,
                stdout=out,
                stderr=err,
                start_new_session=True,
                # A run started in the background inherits SIGINT ignored (as
                # shells do); a user's terminal delivers it: restore that.
                preexec_fn=_default_sigint,
            )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        if _group_members(proc.pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)


def output(tmp_path: Path, number: int) -> tuple[str, str]:
    return (
        (tmp_path / f"stdout{number}.txt").read_text(errors="replace"),
        (tmp_path / f"stderr{number}.txt").read_text(errors="replace"),
    )


def wait_for_first_write(
    proc: subprocess.Popen[bytes], layout: dict[Path, Variant], timeout: float = 45
) -> None:
    """Poll until some file has been replaced (a new inode), failing if the run ends first."""
    inodes = {path: path.stat().st_ino for path in layout}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path, inode in inodes.items():
            try:
                if path.stat().st_ino != inode:
                    return
            except FileNotFoundError:
                continue
        assert proc.poll() is None, "the run ended before a file was seen changing"
        time.sleep(0.005)
    pytest.fail("no file changed in time")


def interrupt(proc: subprocess.Popen[bytes], sig: int, group: bool) -> None:
    if group:
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)


# --------------------------------------------------------------------------
# SIGINT


@pytest.mark.parametrize("group", [False, True], ids=["process", "group"])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_sigint_leaves_each_file_original_or_fixed_and_no_temp_files(
    tmp_path: Path, tree: tuple[Path, dict[Path, Variant]], launch, jobs: str, group: bool
) -> None:
    root, layout = tree
    proc = launch("--jobs", jobs, "tree")
    wait_for_first_write(proc, layout)
    interrupt(proc, signal.SIGINT, group)
    status = proc.wait(timeout=45)
    _, err = output(tmp_path, 0)
    assert status == 130, err
    assert "oncommit-fix: interrupted" in err
    assert "Traceback" not in err
    assert _wait_group_gone(proc.pid, 10) == [], "worker processes outlived the run"
    outcome = verify(root, layout)
    assert outcome.temps == [], outcome.temps
    assert outcome.fixed >= 1
    assert outcome.original >= 1, "the run finished before the interrupt: nothing was tested"


# --------------------------------------------------------------------------
# SIGKILL


def _plant_leftovers(root: Path, layout: dict[Path, Variant]) -> dict[Path, bytes]:
    """Temp files as a run killed mid-write leaves them: half-written fixes, documented names."""
    planted = {}
    for path in list(layout)[5:400:40]:
        handle, name = tempfile.mkstemp(
            prefix=f"{files.TEMP_PREFIX}{path.name}{files.TEMP_MARKER}",
            suffix=files.TEMP_SUFFIX,
            dir=path.parent,
        )
        data = layout[path].fixed[: len(layout[path].fixed) // 2]
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        planted[Path(name)] = data
    return planted


@pytest.mark.parametrize("jobs,group", [("1", False), ("2", True)], ids=["jobs1-process", "jobs2-group"])
def test_sigkill_then_rerun_completes_the_fix(
    tmp_path: Path, tree: tuple[Path, dict[Path, Variant]], launch, jobs: str, group: bool
) -> None:
    root, layout = tree
    proc = launch("--jobs", jobs, "tree")
    wait_for_first_write(proc, layout)
    interrupt(proc, signal.SIGKILL, group)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert _wait_group_gone(proc.pid, 10) == []
    first = verify(root, layout)
    assert first.fixed >= 1 and first.original >= 1
    leftovers = {path: path.read_bytes() for path in first.temps}
    leftovers.update(_plant_leftovers(root, layout))

    second = launch("--jobs", "2", "tree")
    assert second.wait(timeout=50) == 1
    out, err = output(tmp_path, 1)
    assert "Traceback" not in err
    assert ".tmp" not in out + err, "temp files must be neither processed nor reported"
    assert f"{len(layout)} files checked" in err
    assert re.search(rf" fixed in {first.original} files?\b", err), err
    assert out == ""
    after = verify(root, layout)
    assert after.original == 0 and after.fixed == len(layout)
    # Leftovers are not touched either (removing them is the user's call).
    assert {path: path.read_bytes() for path in after.temps} == leftovers


def test_sigkill_of_the_main_process_leaves_no_orphan_workers(
    tmp_path: Path, tree: tuple[Path, dict[Path, Variant]], launch
) -> None:
    root, layout = tree
    proc = launch("--jobs", "2", "tree")
    wait_for_first_write(proc, layout)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    try:
        assert _wait_group_gone(proc.pid, 10) == [], "orphaned workers still running"
    finally:
        # Whatever the orphans did, each file is whole (checked after they are gone).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        _wait_group_gone(proc.pid, 10)
        verify(root, layout)


# --------------------------------------------------------------------------
# Ctrl-C at each step of a write, deterministically (in-process, sequential run)


@pytest.mark.parametrize("step", ["write", "fsync", "chmod", "replace"])
def test_keyboard_interrupt_inside_a_write_leaves_the_original(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], step: str
) -> None:
    target = tmp_path / "a.py"
    target.write_text(BAD)
    if step == "write":
        real_fdopen = os.fdopen

        class Exploding:
            def __init__(self, handle):  # type: ignore[no-untyped-def]
                self.handle = handle

            def __enter__(self):  # type: ignore[no-untyped-def]
                return self

            def __exit__(self, *exc):  # type: ignore[no-untyped-def]
                self.handle.close()

            def write(self, data: bytes) -> int:
                self.handle.write(data[: len(data) // 2])
                raise KeyboardInterrupt

        monkeypatch.setattr(files.os, "fdopen", lambda fd, mode: Exploding(real_fdopen(fd, mode)))
    else:
        real = getattr(files.os, step)

        def exploding(*args, **kwargs):  # type: ignore[no-untyped-def]
            if step == "replace":
                assert files.TEMP_MARKER in os.fspath(args[0])
            raise KeyboardInterrupt

        monkeypatch.setattr(files.os, step, exploding)
        assert real is not exploding
    monkeypatch.chdir(tmp_path)
    status = cli.main(["--jobs", "1", "a.py"])
    monkeypatch.undo()
    _, err = capsys.readouterr()
    assert status == 130
    assert "oncommit-fix: interrupted" in err
    assert target.read_text() == BAD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.py"]


def test_real_sigint_right_after_the_temp_file_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real Ctrl-C during the write is held until the replace is done, then honoured."""
    target = tmp_path / "a.py"
    target.write_text(BAD)
    real = files.tempfile.mkstemp

    def created_then_signalled(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = real(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGINT)
        return result

    monkeypatch.setattr(files.tempfile, "mkstemp", created_then_signalled)
    monkeypatch.chdir(tmp_path)
    status = cli.main(["--jobs", "1", "a.py"])
    monkeypatch.undo()
    capsys.readouterr()
    assert status == 130
    assert target.read_text() == fix_source(BAD)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.py"]
