"""Hostile input: every odd file a real tree can hold, through the console script and flake8.

Each case puts one hostile file beside a normal fixable module (``ok.py``,
the BAD shape) and runs ``oncommit-fix --check``, ``oncommit-fix`` (fix
mode) and ``python -m flake8`` over the directory as subprocesses. For every
case: a clear one-line message naming the hostile file (or none at all when
the file is harmless), the documented exit status, ``ok.py`` still reported
and fixed, and no file left modified unless it is byte for byte the correct
fix. Cases that cannot be staged from outside (an unreadable file as root, a
file deleted mid-run) run ``oncommit-fix``'s ``main()`` in-process with the
file system call patched.

Only files that mention an atomic block and an enqueue-ish word are parsed
(README "What gets parsed"), so the hostile parse cases all contain such words.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import re
import signal
import stat
import subprocess
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path

import pytest
from samples import BAD

import flake8_oncommit.cli as cli
import flake8_oncommit.files as files
from flake8_oncommit.engine import ParseError, check_depth
from flake8_oncommit.plugin import Plugin

SCRIPT = Path(sys.executable).with_name("oncommit-fix")


ENQUEUE = "    send_confirmation.delay(order.pk)"
DEFERRED = "    transaction.on_commit(partial(send_confirmation.delay, order.pk))"
IMPORT = "from functools import partial\n\n"

GOOD = IMPORT + BAD.replace(ENQUEUE, DEFERRED)

OK_CHECK = re.compile(
    r"^\./ok\.py:9:5: OC101 send_confirmation\.delay\(\) enqueued inside @transaction\.atomic at line 6 "
)

#: Anything that should finish at once must finish within this (seconds); the
#: runs here take well under a second on an idle machine.
FAST = 30.0


def oncommit(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    assert SCRIPT.exists(), f"console script not installed next to {sys.executable}"
    return subprocess.run([str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def flake8(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select=OC,E999,E902", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def naming(output: str, name: str) -> list[str]:
    """The lines of ``output`` that name the file ``name`` (``./name:...``, ``name: ...``)."""
    pattern = re.compile(rf"(?:^|/|\s|'){re.escape(name)}(?::|'|$)")
    return [line for line in output.splitlines() if pattern.search(line)]


def everything(proc: subprocess.CompletedProcess[str]) -> str:
    return proc.stdout + proc.stderr


def snapshot(root: Path) -> dict[str, bytes]:
    """Every regular file under ``root`` (symlinks, FIFOs and loops left out)."""
    result = {}
    for directory, _, names in os.walk(root):
        for name in names:
            path = Path(directory, name)
            if path.is_symlink() or not stat.S_ISREG(os.lstat(path).st_mode):
                continue
            result[str(path.relative_to(root))] = path.read_bytes()
    return result


def temp_files(root: Path) -> list[str]:
    return [str(p) for p in root.rglob("*") if files.TEMP_MARKER in p.name]


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "ok.py").write_text(BAD)
    return root


# --------------------------------------------------------------------------
# The matrix: one hostile file ``h.py`` beside ``ok.py``


def _mixed_endings() -> tuple[bytes, bytes]:
    endings = ["\r\n", "\n", "\r\n", "\n", "\r\n", "\n", "\r\n", "\n", "\r\n", "\n"]
    lines = [*BAD.splitlines(), "    order.refresh_from_db()"]
    original = "".join(line + end for line, end in zip(lines, endings))
    fixed = "from functools import partial\r\n\r\n" + original.replace(ENQUEUE + "\r\n", DEFERRED + "\r\n")
    return original.encode(), fixed.encode()


MIXED, MIXED_FIXED = _mixed_endings()
LATIN = "# -*- coding: latin-1 -*-\n# caf\xe9 cr\xe8me\n"
LONG = "x" * 10_000
NESTED_500 = BAD + "    x = " + "[" * 500 + "]" * 500 + "\n"
CHAIN_5000 = BAD + "    total = " + "+".join(["a"] * 5000) + "\n"
#: Deep enough for the engine's guard (lists nest in the AST, parentheses do
#: not), shallow enough for CPython's parser and pyflakes: reaches the plugin.
NESTED_250 = BAD + "    x = " + "[" * 150 + "+".join(["a"] * 100) + "]" * 150 + "\n"


@dataclass(frozen=True)
class Case:
    id: str
    data: bytes
    #: the one line naming h.py in --check output (regex), or None for no line at all
    check: str | None
    #: the bytes h.py must hold after fix mode; None: left as it was
    fixed: bytes | None
    #: the lines naming h.py in flake8's output (regexes, in order)
    flake8: tuple[str, ...]
    #: exit status of ``oncommit-fix --check h.py`` with h.py alone
    alone: int
    #: the line naming h.py in fix mode; defaults to ``check`` when not fixed
    fix_message: str | None = None

    @property
    def fix_line(self) -> str | None:
        if self.fixed is not None:
            return None
        return self.fix_message or self.check


OC101_AT = (
    r"^\./h\.py:{}: OC101 send_confirmation\.delay\(\) enqueued inside @transaction\.atomic at line \d+ "
)

CASES = [
    Case(
        "syntax-error",
        b"from django.db import transaction\n\n@transaction.atomic\ndef broken(:\n    task.delay()\n",
        r"^\./h\.py:4:12: OC000 cannot parse: SyntaxError: invalid syntax$",
        None,
        (r"^\./h\.py:4:\d+: E999 SyntaxError: invalid syntax$",),
        alone=1,
    ),
    Case(
        "non-utf8-without-cookie",
        b"from django.db import transaction\n# caf\xe9\n\n"
        b"@transaction.atomic\ndef f(order):\n    task.delay(order)\n",
        r"^\./h\.py:1:1: OC000 cannot read: not UTF-8 \(byte 0xe9 on line 2\) and no coding cookie .*$",
        None,
        # flake8 decodes with a latin-1 fallback; Python refuses the file, and so do both front ends.
        (r"^\./h\.py:1:1: OC000 cannot read: not UTF-8 \(byte 0xe9 on line 2\)",),
        alone=1,
    ),
    Case(
        "latin1-with-cookie",
        (LATIN + BAD).encode("latin-1"),
        OC101_AT.format("11:5"),
        (LATIN + GOOD).encode("latin-1"),
        (OC101_AT.format("11:5"),),
        alone=1,
    ),
    Case(
        "utf8-bom",
        b"\xef\xbb\xbf" + BAD.encode(),
        OC101_AT.format("9:5"),
        b"\xef\xbb\xbf" + GOOD.encode(),
        (OC101_AT.format("9:5"),),
        alone=1,
    ),
    Case(
        "crlf",
        BAD.replace("\n", "\r\n").encode(),
        OC101_AT.format("9:5"),
        GOOD.replace("\n", "\r\n").encode(),
        (OC101_AT.format("9:5"),),
        alone=1,
    ),
    Case(
        "mixed-line-endings",
        MIXED,
        OC101_AT.format("9:5"),
        MIXED_FIXED,
        (OC101_AT.format("9:5"),),
        alone=1,
    ),
    Case(
        "tabs",
        BAD.replace("    ", "\t").encode(),
        OC101_AT.format("9:2"),
        GOOD.replace("    ", "\t").encode(),
        (OC101_AT.format("9:2"),),
        alone=1,
    ),
    Case("empty", b"", None, None, (), alone=0),
    Case(
        "comments-only",
        b"# @transaction.atomic\n# def place_order(order):\n#     send_confirmation.delay(order.pk)\n",
        None,
        None,
        (),
        alone=0,
    ),
    Case(
        "10000-char-line",
        BAD.replace("(order.pk)", f"(order.pk, '{LONG}')").encode(),
        OC101_AT.format("9:5"),
        GOOD.replace("order.pk))", f"order.pk, '{LONG}'))").encode(),
        (OC101_AT.format("9:5"),),
        alone=1,
    ),
    Case(
        "500-nested-brackets",
        NESTED_500.encode(),
        r"^\./h\.py:10:\d+: OC000 cannot parse: SyntaxError: too many nested parentheses$",
        None,
        (r"^\./h\.py:10:\d+: E999 SyntaxError: too many nested parentheses$",),
        alone=1,
    ),
    Case(
        "250-levels-lists-and-operators",
        NESTED_250.encode(),
        r"^\./h\.py:10:1: OC000 cannot parse: too deeply nested to analyse \(more than 200 levels\)$",
        None,
        (r"^\./h\.py:10:1: OC000 cannot parse: too deeply nested to analyse \(more than 200 levels\)$",),
        alone=1,
    ),
    Case(
        "binary-nul-bytes",
        b"\x7fELF\x02\x01\x01\x00\x00\x00transaction.atomic task.delay\x00\xff\xfe\x00",
        r"^\./h\.py:1:1: OC000 cannot read: binary file \(contains NUL bytes\)$",
        None,
        (r"^\./h\.py:1:\d+: E999 \w+: .*null bytes",),
        alone=1,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_check_mode(proj: Path, case: Case) -> None:
    (proj / "h.py").write_bytes(case.data)
    before = snapshot(proj)
    proc = oncommit("--check", ".", cwd=proj, timeout=FAST)  # a hang guard
    assert proc.returncode == 1, everything(proc)  # ok.py's finding at least
    assert "Traceback" not in proc.stderr
    mentions = naming(everything(proc), "h.py")
    if case.check is None:
        assert mentions == []
    else:
        assert len(mentions) == 1, everything(proc)
        assert re.search(case.check, mentions[0]), mentions[0]
    assert [line for line in proc.stdout.splitlines() if OK_CHECK.search(line)], proc.stdout
    assert snapshot(proj) == before


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_fix_mode(proj: Path, case: Case) -> None:
    (proj / "h.py").write_bytes(case.data)
    proc = oncommit(".", cwd=proj, timeout=FAST)  # a hang guard
    assert proc.returncode == 1, everything(proc)  # ok.py changed at least
    assert "Traceback" not in proc.stderr
    assert (proj / "ok.py").read_text() == GOOD
    assert (proj / "h.py").read_bytes() == (case.data if case.fixed is None else case.fixed)
    mentions = naming(everything(proc), "h.py")
    if case.fix_line is None:
        assert mentions == []
    else:
        assert len(mentions) == 1, everything(proc)
        assert re.search(case.fix_line, mentions[0]), mentions[0]
    assert sorted(p.name for p in proj.iterdir()) == ["h.py", "ok.py"]


@pytest.mark.heavy
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_alone_exit_status(tmp_path: Path, case: Case) -> None:
    """The documented exit status for the file by itself, and a fix that holds on a second run."""
    (tmp_path / "h.py").write_bytes(case.data)
    check = oncommit("--check", "h.py", cwd=tmp_path)
    assert check.returncode == case.alone, everything(check)
    fix = oncommit("h.py", cwd=tmp_path)
    assert fix.returncode == case.alone, everything(fix)
    if case.fixed is not None:
        assert "1 fixed in 1 file" in fix.stderr
        again = oncommit("h.py", cwd=tmp_path)
        assert (again.returncode, again.stdout) == (0, ""), everything(again)
        assert (tmp_path / "h.py").read_bytes() == case.fixed
        compile(case.fixed, "h.py", "exec", dont_inherit=True)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_flake8(proj: Path, case: Case) -> None:
    (proj / "h.py").write_bytes(case.data)
    before = snapshot(proj)
    proc = flake8(".", cwd=proj)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 1, everything(proc)
    mentions = naming(proc.stdout, "h.py")
    assert len(mentions) == len(case.flake8), proc.stdout
    for line, pattern in zip(mentions, case.flake8):
        assert re.search(pattern, line), line
    assert [line for line in proc.stdout.splitlines() if OK_CHECK.search(line)], proc.stdout
    assert snapshot(proj) == before


# --------------------------------------------------------------------------
# Deep nesting: refused fast, never a crash or a hang


def test_5000_term_chain_is_refused_fast(proj: Path) -> None:
    (proj / "h.py").write_text(CHAIN_5000)
    for args in (("--check", "."), (".",)):
        proc = oncommit(*args, cwd=proj, timeout=FAST)  # a hang guard
        assert proc.returncode == 1
        mentions = naming(everything(proc), "h.py")
        assert len(mentions) == 1, everything(proc)
        assert re.search(r"^\./h\.py:\d+:\d+: OC000 cannot parse: too deeply nested to analyse", mentions[0])
    assert (proj / "ok.py").read_text() == GOOD
    assert (proj / "h.py").read_text() == CHAIN_5000


def test_5000_term_chain_in_flake8_never_reaches_the_plugin(proj: Path) -> None:
    """flake8 builds an ``ast`` of every file before plugins run.

    CPython's parser gives up on this chain with RecursionError, and flake8
    7 does not catch it: flake8 itself stops with a traceback (upstream
    behaviour, pyflakes and pycodestyle never run either). Nothing of this
    plugin is involved; the plugin's own handling of the text is checked
    in-process below.
    """
    (proj / "h.py").write_text(CHAIN_5000)
    proc = flake8(".", cwd=proj, timeout=60)
    assert "flake8_oncommit" not in proc.stderr
    if proc.returncode != 0 and "Traceback" in proc.stderr:
        assert "RecursionError" in proc.stderr or "E999" in proc.stdout
    else:  # a flake8 that reports E999 instead
        assert re.search(r"h\.py:\d+:\d+: E999 ", proc.stdout), proc.stdout


def test_plugin_refuses_a_5000_term_chain_in_process() -> None:
    lines = CHAIN_5000.splitlines(keepends=True)
    results = list(Plugin(None, lines, "h.py").run())  # type: ignore[arg-type]
    assert len(results) == 1
    _, _, message, _ = results[0]
    assert message.startswith("OC000 cannot parse: too deeply nested to analyse")


#: Shapes the cheap pre-test in engine._looks_deep does not count (it counts
#: brackets and binary operators only). libcst then parses them itself: a
#: segfault (unary ``not``/``~``, ``lambda``) or tens of seconds (subscript
#: and call trailers, conditional expressions). check_depth() must refuse them.
DEEP_SHAPES = {
    "not-x20000": "x = " + "not " * 20_000 + "a\n",
    "tilde-x20000": "x = " + "~" * 20_000 + "a\n",
    "lambda-x5000": "x = " + "lambda: " * 5_000 + "a\n",
    "ternary-x3000": "x = " + "a if b else " * 3_000 + "a\n",
    "subscript-x3000": "x = a" + "[0]" * 3_000 + "\n",
    "method-chain-x1000": "x = a" + ".b()" * 1_000 + "\n",
}


@pytest.mark.parametrize("shape", sorted(DEEP_SHAPES))
def test_depth_guard_refuses_every_deep_shape(shape: str) -> None:
    # check_depth() uses CPython's parser only (it never calls libcst), so a
    # missed shape cannot crash this process.
    with pytest.raises(ParseError, match=r"too deeply nested|too many nested"):
        check_depth(DEEP_SHAPES[shape])


@pytest.mark.parametrize("mode", [("--check", "."), (".",)], ids=["check", "fix"])
def test_deep_unary_not_chain_does_not_crash_the_run(proj: Path, mode: tuple[str, ...]) -> None:
    (proj / "h.py").write_text(BAD + "    x = " + "not " * 20_000 + "a\n")
    proc = oncommit(*mode, cwd=proj, timeout=FAST)  # a hang guard
    assert proc.returncode == 1, (proc.returncode, everything(proc))
    mentions = naming(everything(proc), "h.py")
    assert len(mentions) == 1
    assert "OC000 cannot parse: too deeply nested" in mentions[0]
    if mode == (".",):
        assert (proj / "ok.py").read_text() == GOOD


# --------------------------------------------------------------------------
# A 50,000-line file


def _big_module(lines: int = 50_000, enqueues: int = 10) -> tuple[str, str]:
    head = "from django.db import transaction\n\nfrom shop.tasks import send_confirmation\n"
    parts = [head]
    fixed = [IMPORT + head]
    count = head.count("\n")
    index = placed = 0
    spacing = lines // enqueues
    while True:
        if count + 7 > lines:
            break
        if count >= placed * spacing and placed < enqueues:
            block = (
                f"\n\n@transaction.atomic\ndef place_{index}(order):\n    order.save()\n"
                f"    send_confirmation.delay(order.pk, {index})\n"
            )
            fixed_block = block.replace(
                f"    send_confirmation.delay(order.pk, {index})\n",
                f"    transaction.on_commit(partial(send_confirmation.delay, order.pk, {index}))\n",
            )
            placed += 1
        else:
            block = fixed_block = f"\n\ndef helper_{index}(a):\n    return a + {index}\n"
        parts.append(block)
        fixed.append(fixed_block)
        count += block.count("\n")
        index += 1
    padding = "\n" * (lines - count)
    return "".join(parts) + padding, "".join(fixed) + padding


@pytest.fixture(scope="module")
def big_module() -> tuple[str, str]:
    text, fixed = _big_module()
    assert text.count("\n") == 50_000
    assert text.count(".delay(") == 10
    return text, fixed


@pytest.mark.heavy
def test_50000_line_file_check(proj: Path, big_module: tuple[str, str]) -> None:
    text, _ = big_module
    (proj / "h.py").write_text(text)
    proc = oncommit("--check", ".", cwd=proj, timeout=300)  # a hang guard, not a speed test
    assert proc.returncode == 1
    assert len(naming(proc.stdout, "h.py")) == 10
    assert all(" OC101 send_confirmation.delay() " in line for line in naming(proc.stdout, "h.py"))
    assert (proj / "h.py").read_text() == text


@pytest.mark.heavy
def test_50000_line_file_fix(proj: Path, big_module: tuple[str, str]) -> None:
    text, fixed = big_module
    (proj / "h.py").write_text(text)
    proc = oncommit(".", cwd=proj, timeout=600)  # a hang guard, not a speed test
    assert proc.returncode == 1, everything(proc)
    assert "11 fixed in 2 files" in proc.stderr
    assert (proj / "h.py").read_text() == fixed
    assert (proj / "ok.py").read_text() == GOOD


@pytest.mark.heavy
def test_50000_line_file_flake8(proj: Path, big_module: tuple[str, str]) -> None:
    text, _ = big_module
    (proj / "h.py").write_text(text)
    proc = flake8(".", cwd=proj, timeout=600)  # a hang guard, not a speed test
    assert len([line for line in naming(proc.stdout, "h.py") if " OC101 " in line]) == 10, proc.stdout
    assert [line for line in proc.stdout.splitlines() if OK_CHECK.search(line)]


# --------------------------------------------------------------------------
# Odd things on disk


def test_symlink_loop_in_a_walked_directory(proj: Path) -> None:
    (proj / "a.py").symlink_to("b.py")
    (proj / "b.py").symlink_to("a.py")
    check = oncommit("--check", ".", cwd=proj)
    fix = oncommit(".", cwd=proj)
    for proc in (check, fix):
        assert proc.returncode == 1
        assert "Traceback" not in proc.stderr
        for name in ("a.py", "b.py"):
            mentions = naming(everything(proc), name)
            assert len(mentions) == 1, everything(proc)
            assert re.search(
                rf"^\./{name}:1:1: OC000 cannot read: .*Too many levels of symbolic links$", mentions[0]
            )
    assert (proj / "ok.py").read_text() == GOOD
    assert os.readlink(proj / "a.py") == "b.py" and os.readlink(proj / "b.py") == "a.py"
    assert sorted(p.name for p in proj.iterdir()) == ["a.py", "b.py", "ok.py"]
    (proj / "ok.py").write_text(BAD)
    lint = flake8(".", cwd=proj)
    for name in ("a.py", "b.py"):
        mentions = naming(lint.stdout, name)
        assert len(mentions) == 1 and " E902 " in mentions[0] and "symbolic links" in mentions[0]
    assert [line for line in lint.stdout.splitlines() if OK_CHECK.search(line)]


def test_symlink_loop_named_with_another_file(proj: Path) -> None:
    (proj / "a.py").symlink_to("b.py")
    (proj / "b.py").symlink_to("a.py")
    proc = oncommit("a.py", "ok.py", cwd=proj)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    mentions = naming(everything(proc), "a.py")
    assert len(mentions) == 1, everything(proc)
    assert re.search(r"^a\.py:1:1: OC000 cannot read: .*Too many levels of symbolic links$", mentions[0])
    assert (proj / "ok.py").read_text() == GOOD


@pytest.mark.parametrize(
    "extra", [(), ("--isolated", "--atomic-requests=auto")], ids=["default", "isolated-atomic-requests-auto"]
)
def test_symlink_loop_named_alone(proj: Path, extra: tuple[str, ...]) -> None:
    (proj / "a.py").symlink_to("b.py")
    (proj / "b.py").symlink_to("a.py")
    for args in (("--check", *extra, "a.py"), (*extra, "a.py")):
        proc = oncommit(*args, cwd=proj)
        assert "Traceback" not in proc.stderr, proc.stderr
        assert proc.returncode == 1
        mentions = naming(everything(proc), "a.py")
        assert len(mentions) == 1
        assert re.search(r"^a\.py:1:1: OC000 cannot read: .*Too many levels of symbolic links$", mentions[0])


def test_read_error_message_has_one_prefix(proj: Path) -> None:
    (proj / "a.py").symlink_to("b.py")
    (proj / "b.py").symlink_to("a.py")
    proc = oncommit("--check", ".", cwd=proj)
    assert "cannot read: cannot read:" not in proc.stdout


def test_directory_named_x_py_is_walked(proj: Path) -> None:
    (proj / "x.py").mkdir()
    (proj / "x.py" / "inner.py").write_text(BAD)
    check = oncommit("--check", ".", cwd=proj)
    assert check.returncode == 1
    assert naming(check.stdout, "inner.py")[0].startswith("./x.py/inner.py:9:5: OC101 ")
    assert not [line for line in everything(check).splitlines() if re.search(r"x\.py:\d+:\d+: OC000", line)]
    fix = oncommit(".", cwd=proj)
    assert fix.returncode == 1
    assert "Traceback" not in fix.stderr and "x.py:" not in everything(fix)
    assert (proj / "x.py" / "inner.py").read_text() == GOOD
    assert (proj / "ok.py").read_text() == GOOD
    (proj / "x.py" / "inner.py").write_text(BAD)
    named = oncommit("x.py", cwd=proj)  # named explicitly: walked as well
    assert named.returncode == 1 and (proj / "x.py" / "inner.py").read_text() == GOOD
    (proj / "x.py" / "inner.py").write_text(BAD)
    (proj / "ok.py").write_text(BAD)
    lint = flake8(".", cwd=proj)
    assert [line.split(" ")[0:2] for line in lint.stdout.splitlines()] == [
        ["./ok.py:9:5:", "OC101"],
        ["./x.py/inner.py:9:5:", "OC101"],
    ]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_named_x_py_does_not_block(proj: Path) -> None:
    os.mkfifo(proj / "x.py")
    for args in (("--check", "."), (".",), ("--check", "x.py", "ok.py")):
        proc = oncommit(*args, cwd=proj, timeout=FAST)  # a hang guard
        assert proc.returncode == 1
        mentions = naming(everything(proc), "x.py")
        assert len(mentions) == 1, everything(proc)
        assert re.search(r"^(\./)?x\.py:1:1: OC000 cannot read: not a regular file$", mentions[0])
    assert (proj / "ok.py").read_text() == GOOD
    assert stat.S_ISFIFO(os.lstat(proj / "x.py").st_mode)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.xfail(
    strict=True,
    raises=subprocess.TimeoutExpired,
    reason=(
        "UPSTREAM flake8 (not this plugin): flake8 opens and reads every discovered *.py before any "
        "plugin runs, and a FIFO blocks that read forever; exclude it (--extend-exclude)"
    ),
)
def test_fifo_in_flake8(proj: Path) -> None:
    os.mkfifo(proj / "x.py")
    # Its own session: on timeout the whole group goes (flake8's pool workers block on the FIFO too).
    proc = subprocess.Popen(
        [sys.executable, "-m", "flake8", "--isolated", "--select=OC,E999,E902", "."],
        cwd=proj,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        proc.wait(timeout=5)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_read_only_file_is_not_modified(proj: Path) -> None:
    target = proj / "ro.py"
    target.write_text(BAD)
    target.chmod(0o444)
    try:
        check = oncommit("--check", ".", cwd=proj)
        assert check.returncode == 1
        assert [line.split(" ")[:2] for line in naming(check.stdout, "ro.py")] == [["./ro.py:9:5:", "OC101"]]
        before = os.stat(target)
        fix = oncommit(".", cwd=proj)
        assert fix.returncode == 1
        assert "Traceback" not in fix.stderr
        # The finding stays reported (stdout), the refusal is one line on stderr.
        assert naming(fix.stderr, "ro.py") == [
            "./ro.py: fix not applied: cannot write: the file is read-only"
        ]
        assert [line.split(" ")[:2] for line in naming(fix.stdout, "ro.py")] == [["./ro.py:9:5:", "OC101"]]
        assert "left to fix by hand" in fix.stderr
        assert target.read_text() == BAD
        after = os.stat(target)
        assert (after.st_ino, after.st_mtime_ns, stat.S_IMODE(after.st_mode)) == (
            before.st_ino,
            before.st_mtime_ns,
            0o444,
        )
        assert (proj / "ok.py").read_text() == GOOD
        assert temp_files(proj) == []
        (proj / "ok.py").write_text(BAD)
        lint = flake8(".", cwd=proj)
        assert [line.split(" ")[:2] for line in lint.stdout.splitlines()] == [
            ["./ok.py:9:5:", "OC101"],
            ["./ro.py:9:5:", "OC101"],
        ]
    finally:
        target.chmod(0o644)


# --------------------------------------------------------------------------
# Unreadable files


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads a chmod 000 file anyway"
)
def test_unreadable_file_subprocess(proj: Path) -> None:
    target = proj / "h.py"
    target.write_text(BAD)
    target.chmod(0)
    try:
        for args in (("--check", "."), (".",)):
            proc = oncommit(*args, cwd=proj)
            assert proc.returncode == 1
            mentions = naming(everything(proc), "h.py")
            assert len(mentions) == 1
            assert re.search(r"^\./h\.py:1:1: OC000 cannot read: .*permission denied$", mentions[0])
        assert (proj / "ok.py").read_text() == GOOD
        (proj / "ok.py").write_text(BAD)
        lint = flake8(".", cwd=proj)
        assert [m for m in naming(lint.stdout, "h.py") if " E902 " in m]
    finally:
        target.chmod(0o644)
    assert target.read_text() == BAD


def _deny(monkeypatch: pytest.MonkeyPatch, module: object, name: str, victim: Path) -> None:
    real = getattr(module, name, None) or getattr(builtins, name)

    def guarded(file: object, *args: object, **kwargs: object) -> object:
        if os.path.abspath(os.fspath(file)) == str(victim):  # type: ignore[arg-type]
            raise PermissionError(13, "Permission denied", os.fspath(file))  # type: ignore[arg-type]
        return real(file, *args, **kwargs)

    monkeypatch.setattr(module, name, guarded, raising=False)


@pytest.mark.parametrize("mode", [["--check"], []], ids=["check", "fix"])
def test_unreadable_file_in_process(
    proj: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], mode: list[str]
) -> None:
    target = proj / "h.py"
    target.write_text(BAD)
    _deny(monkeypatch, files, "open", target)
    monkeypatch.chdir(proj)
    status = cli.main([*mode, "--jobs", "1", "."])
    out, err = capsys.readouterr()
    assert status == 1
    mentions = naming(out + err, "h.py")
    assert len(mentions) == 1, out + err
    assert re.search(r"^\./h\.py:1:1: OC000 cannot read: .*permission denied$", mentions[0])
    assert target.read_text() == BAD
    assert (proj / "ok.py").read_text() == (BAD if mode else GOOD)


def test_unreadable_file_in_flake8_in_process(
    proj: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from flake8.main.cli import main as flake8_main

    target = proj / "h.py"
    target.write_text(BAD)
    _deny(monkeypatch, tokenize, "open", target)  # flake8 reads sources with tokenize.open
    monkeypatch.chdir(proj)
    status = flake8_main(["--isolated", "--select=OC,E999,E902", "--jobs=1", "."])
    out, _ = capsys.readouterr()
    assert status == 1
    mentions = naming(out, "h.py")
    assert len(mentions) == 1 and " E902 PermissionError" in mentions[0], out
    assert [line for line in out.splitlines() if OK_CHECK.search(line)], out


# --------------------------------------------------------------------------
# Files that change under the run


def test_file_deleted_before_the_write(
    proj: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = proj / "h.py"
    target.write_text(BAD)
    real = cli.fix_text

    def delete_then_fix(text: str, *args: object, filename: str = "", **kwargs: object) -> object:
        if os.path.basename(filename) == "h.py":
            os.unlink(target)
        return real(text, *args, filename=filename, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cli, "fix_text", delete_then_fix)
    monkeypatch.chdir(proj)
    status = cli.main(["--jobs", "1", "."])
    _, err = capsys.readouterr()
    assert status == 1
    assert naming(err, "h.py") == ["./h.py: fix not applied: deleted while it was being fixed; not written"]
    assert not target.exists(), "a deleted file must not be re-created"
    assert (proj / "ok.py").read_text() == GOOD
    assert temp_files(proj) == []


def test_file_changed_before_the_write(
    proj: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = proj / "h.py"
    target.write_text(BAD)
    edited = BAD + "\n\ndef added_meanwhile():\n    pass\n"
    real = cli.fix_text

    def edit_then_fix(text: str, *args: object, filename: str = "", **kwargs: object) -> object:
        if os.path.basename(filename) == "h.py":
            target.write_text(edited)
        return real(text, *args, filename=filename, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cli, "fix_text", edit_then_fix)
    monkeypatch.chdir(proj)
    status = cli.main(["--jobs", "1", "."])
    _, err = capsys.readouterr()
    assert status == 1
    assert naming(err, "h.py") == ["./h.py: fix not applied: changed while it was being fixed; not written"]
    assert target.read_text() == edited
    assert (proj / "ok.py").read_text() == GOOD
    assert temp_files(proj) == []


@pytest.mark.parametrize("mode", [["--check"], []], ids=["check", "fix"])
def test_file_deleted_between_discovery_and_read(
    proj: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], mode: list[str]
) -> None:
    target = proj / "h.py"
    target.write_text(BAD)
    real = cli.read

    def delete_then_read(path: str) -> files.Snapshot:
        if os.path.basename(path) == "h.py":
            os.unlink(path)
        return real(path)

    monkeypatch.setattr(cli, "read", delete_then_read)
    monkeypatch.chdir(proj)
    status = cli.main([*mode, "--jobs", "1", "."])
    out, err = capsys.readouterr()
    assert status == 1
    assert naming(out + err, "h.py") == ["./h.py:1:1: OC000 cannot read: no such file"]
    assert not target.exists()
    assert (proj / "ok.py").read_text() == (BAD if mode else GOOD)


# --------------------------------------------------------------------------
# Beyond the brief's list


def test_non_ascii_compatible_cookie_is_reported(tmp_path: Path) -> None:
    (tmp_path / "h.py").write_bytes(b"# coding: utf-16\n" + BAD.encode())
    proc = oncommit("--check", "h.py", cwd=tmp_path)
    assert proc.returncode == 1
    mentions = naming(proc.stdout, "h.py")
    assert len(mentions) == 1 and "OC000 cannot read: " in mentions[0]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root can give a file away")
def test_fixed_file_keeps_its_owner(proj: Path) -> None:
    target = proj / "ok.py"
    os.chown(target, 65534, 65534)
    proc = oncommit("ok.py", cwd=proj)
    assert proc.returncode == 1 and target.read_text() == GOOD
    info = os.stat(target)
    assert (info.st_uid, info.st_gid) == (65534, 65534)
