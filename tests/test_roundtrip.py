"""scripts/roundtrip.py on a small generated tree: it passes, and its numbers are right."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import libcst as cst

from flake8_oncommit.config import Config

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "roundtrip.py"

ORDERS = """\
from django.db import transaction

from app.tasks import reindex, send_mail


@transaction.atomic
def place(order):
    order.save()
    send_mail.delay(order.pk, template="placed")
    reindex.delay()
"""

LOOP = """\
from django.db import transaction

from app.tasks import notify


@transaction.atomic
def ship(parcels):
    for parcel in parcels:
        parcel.save()

        def _notify():
            notify.delay(parcel.pk)

        transaction.on_commit(_notify)
"""

RESULT_USED = """\
from django.db import transaction

from app.tasks import crunch


@transaction.atomic
def submit(job):
    result = crunch.delay(job.pk)
    job.celery_id = result.id
    job.save()
"""

CLEAN = """\
from functools import partial

from django.db import transaction

from app.tasks import send_mail


@transaction.atomic
def place(order):
    order.save()
    transaction.on_commit(partial(send_mail.delay, order.pk))
"""

CRLF = (
    "# Windows line endings\r\n"
    "from django.db import transaction\r\n"
    "\r\n"
    "from app.tasks import archive\r\n"
    "\r\n"
    "\r\n"
    "def close(ticket):\r\n"
    "    with transaction.atomic():\r\n"
    "        ticket.save()\r\n"
    "        archive.delay(ticket.pk)\r\n"
)


def _tree(root: Path) -> Path:
    src = root / "src"
    (src / "app").mkdir(parents=True)
    (src / "app" / "__init__.py").write_text("")
    (src / "app" / "orders.py").write_text(ORDERS)
    (src / "app" / "loop.py").write_text(LOOP)
    (src / "app" / "result_used.py").write_text(RESULT_USED)
    (src / "app" / "clean.py").write_text(CLEAN)
    (src / "app" / "crlf.py").write_bytes(CRLF.encode())
    (src / "README.txt").write_text("not Python\n")
    # Never copied, never counted.
    for skipped in (".git", "node_modules"):
        (src / skipped).mkdir()
        (src / skipped / "hook.py").write_text(ORDERS)
    return src


def _summary(output: str) -> dict[str, str]:
    return dict(re.findall(r"^  ([a-z ()]+?): (.*)$", output, re.MULTILINE))


def test_roundtrip_on_a_generated_tree(tmp_path):
    src = _tree(tmp_path)
    before = {p: p.read_bytes() for p in src.rglob("*") if p.is_file()}
    work = tmp_path / "work"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(src), "--jobs", "1", "--keep", str(work)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    numbers = _summary(proc.stdout)
    assert numbers["files total"] == "6"
    assert numbers["files with findings"] == "4"
    assert numbers["findings"] == "5 (fixable 4, not fixable 1)"
    assert numbers["by code"] == "OC101 4, OC103 1"
    assert numbers["files changed"] == "3"
    assert numbers["fixes applied"] == "4"
    assert numbers["findings left to fix by hand"] == "1"
    assert numbers["changed files compiled"].startswith("3 ")
    for check in "abcdef":
        assert re.search(rf"^  \({check}\) .*: ok$", proc.stdout, re.MULTILINE), proc.stdout
    assert "violations: 0" in proc.stdout
    assert proc.stdout.rstrip().endswith("result: OK")
    # The source tree is untouched; the kept copy holds the fix, CRLF kept.
    assert {p: p.read_bytes() for p in src.rglob("*") if p.is_file()} == before
    fixed = (work / "src" / "app" / "crlf.py").read_bytes()
    assert b"transaction.on_commit(partial(archive.delay, ticket.pk))\r\n" in fixed
    assert b"\n" not in fixed.replace(b"\r\n", b"")
    assert not (work / "src" / ".git").exists()
    assert "+        def _notify(parcel):" in (work / "roundtrip.diff").read_text()


def _load_script():
    spec = importlib.util.spec_from_file_location("roundtrip_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_roundtrip_flags_changes_outside_fixed_statements():
    roundtrip = _load_script()
    allowed = roundtrip.allowed_changes(LOOP, Config(), "loop.py")
    good = (
        LOOP.replace("def _notify():", "def _notify(parcel):")
        .replace("on_commit(_notify)", "on_commit(partial(_notify, parcel))")
        .replace("from django.db", "from functools import partial\n\nfrom django.db")
    )

    def problems(text):
        new_module = cst.parse_module(text)
        return roundtrip.check_hunks(
            "loop.py", LOOP, text, allowed, roundtrip.import_lines(new_module)
        ) + roundtrip.check_statements(
            "loop.py", allowed.module, new_module, allowed.fixed_lines, allowed.rebound
        )

    assert problems(good) == []
    # An unflagged statement changed, a statement added in a function, a
    # blank line added in a body, a def renamed: each is caught.
    assert problems(good.replace("parcel.save()", "parcel.save(update_fields=[])"))
    assert problems(good.replace("        parcel.save()\n", "        parcel.save()\n        import os\n"))
    assert problems(good.replace("    for parcel", "\n    for parcel"))
    assert problems(good.replace("def _notify(parcel):", "def _notify2(parcel):"))


HELPER = """\
from django.db import transaction

from app.tasks import send


def notify(order):
    with transaction.atomic():
        order.save()
        send.delay(order.pk)
"""

CALLER = """\
from django.db import transaction

from app.helpers import notify


@transaction.atomic
def place(order):
    notify(order)
"""


def test_an_oc105_resolved_by_fixing_its_helper_in_another_file_is_no_violation(tmp_path):
    """The first run reports the caller's OC105 (its file is checked against the helper as it was);
    the second run no longer does, because the helper's OC101 was fixed: that is right."""
    src = tmp_path / "src"
    (src / "app").mkdir(parents=True)
    (src / "app" / "__init__.py").write_text("")
    (src / "app" / "helpers.py").write_text(HELPER)
    (src / "app" / "a_caller.py").write_text(CALLER)
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(src), "--jobs", "1"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    numbers = _summary(proc.stdout)
    assert numbers["by code"] == "OC101 1, OC105 1"
    assert numbers["findings left to fix by hand"] == "1"
    assert "violations: 0" in proc.stdout
