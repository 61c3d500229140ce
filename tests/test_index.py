"""The project index: names from the project's other modules, cached on disk."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fixture_format import FIXTURES

from flake8_oncommit import check_source, fix_source
from flake8_oncommit.cache import CACHE_DIR, Store
from flake8_oncommit.config import Config
from flake8_oncommit.engine import project_index
from flake8_oncommit.index import ProjectIndex
from flake8_oncommit.names import absolute_name, module_name_of

SCRIPT = Path(sys.executable).with_name("oncommit-fix")

TRACING = """\
from contextlib import contextmanager

from django.db import transaction


@contextmanager
def traced_atomic():
    with transaction.atomic():
        yield
"""

VIEWS = """\
from shop.core.tracing import traced_atomic
from shop.tasks import send_email


def place(order):
    with traced_atomic():
        send_email.delay(order.pk)
"""


def cached_index(project: Path) -> ProjectIndex:
    """An index keeping its summaries in the project's default cache directory."""
    return project_index(project, Config(), store=Store(project / CACHE_DIR))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for package in ("shop", "shop/core"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "shop" / "core" / "tracing.py").write_text(TRACING)
    (tmp_path / "shop" / "views.py").write_text(VIEWS)
    (tmp_path / "manage.py").write_text("")
    return tmp_path


@pytest.mark.parametrize(
    ("qualified", "module", "package", "expected"),
    [
        (".tasks.send", "shop.views", False, "shop.tasks.send"),
        ("..core.tracing.x", "shop.graphql.views", False, "shop.core.tracing.x"),
        (".tracing.x", "shop.core", True, "shop.core.tracing.x"),
        (".services", "shop.views", False, "shop.services"),
        ("shop.tasks", "anything", False, "shop.tasks"),
        ("....too.far", "a.b", False, "....too.far"),
    ],
)
def test_absolute_name(qualified: str, module: str, package: bool, expected: str) -> None:
    assert absolute_name(qualified, module, package) == expected


def test_module_name_follows_packages(project: Path) -> None:
    assert module_name_of(project / "shop" / "core" / "tracing.py") == ("shop.core.tracing", project)
    assert module_name_of(project / "shop" / "core" / "__init__.py") == ("shop.core", project)
    assert module_name_of(project / "manage.py") == ("manage", project)


def test_wrapper_in_another_module(project: Path) -> None:
    views = project / "shop" / "views.py"
    assert check_source(VIEWS, filename=str(views)) == []  # without the project: unknown
    findings = check_source(VIEWS, filename=str(views), project_root=project)
    assert [(f.line, f.code) for f in findings] == [(7, "OC101")]


def test_cache_is_written_reused_and_refreshed(project: Path) -> None:
    index = cached_index(project)
    assert index.function("shop.core.tracing.traced_atomic").wrapper  # type: ignore[union-attr]
    assert index.parsed == 1
    cache = project / CACHE_DIR
    files = list(cache.glob("*/*/summaries/*.json"))
    assert len(files) == 1
    assert (cache / ".gitignore").read_text().endswith("*\n")
    assert (cache / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    # A new index reads the cache (the source is not parsed again).
    stamp = files[0].stat().st_mtime_ns
    again = cached_index(project)
    assert again.function("shop.core.tracing.traced_atomic") is not None
    assert again.parsed == 0
    assert files[0].stat().st_mtime_ns == stamp
    # Editing the module invalidates it.
    tracing = project / "shop" / "core" / "tracing.py"
    tracing.write_text(TRACING.replace("with transaction.atomic():", "if True:"))
    later = time.time() + 5
    os.utime(tracing, (later, later))
    assert cached_index(project).function("shop.core.tracing.traced_atomic") is None


def test_a_touched_module_is_recognised_by_its_content(project: Path) -> None:
    """A new mtime with the same bytes (a checkout, a touch) costs a hash, not a parse."""
    assert cached_index(project).function("shop.core.tracing.traced_atomic") is not None
    tracing = project / "shop" / "core" / "tracing.py"
    later = time.time() + 5
    os.utime(tracing, (later, later))
    touched = cached_index(project)
    assert touched.function("shop.core.tracing.traced_atomic") is not None
    assert touched.parsed == 0


def test_a_name_the_module_does_not_mention_is_answered_without_parsing(project: Path) -> None:
    index = project_index(project, Config())
    index.begin()
    assert index.function("shop.core.tracing.create_order") is None
    [(kind, module, value)] = index.end() or [None]  # type: ignore[misc]
    assert (kind, module, value.split(":")[:2]) == ("text", "shop.core.tracing", ["mention", "create_order"])
    assert index.parsed == 0


def test_no_cache_flag_writes_nothing(project: Path) -> None:
    proc = subprocess.run(
        [str(SCRIPT), "--check", "--no-cache", "shop"], cwd=project, capture_output=True, text=True
    )
    assert proc.returncode == 1 and "OC101" in proc.stdout
    assert not (project / CACHE_DIR).exists()
    proc = subprocess.run([str(SCRIPT), "--check", "shop"], cwd=project, capture_output=True, text=True)
    assert proc.returncode == 1 and (project / CACHE_DIR / "CACHEDIR.TAG").is_file()


def test_flake8_uses_the_project(project: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--select=OC", "shop/views.py"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert "shop/views.py:7:9: OC101" in proc.stdout


def test_cycles_and_missing_modules_are_harmless(project: Path) -> None:
    (project / "shop" / "a.py").write_text("from shop.b import g\n\n\ndef f():\n    g()\n")
    (project / "shop" / "b.py").write_text("from shop.a import f\n\n\ndef g():\n    f()\n")
    index = project_index(project, Config())
    assert index.chain("shop.a.f") is None
    assert index.function("shop.missing.h") is None
    assert index.function("nodots") is None
    # Unresolved relative imports (a module outside any package) name nothing.
    for name in ("..Base", ".models.Base", "shop..Base"):
        assert index.function(name) is None
        assert not index.view_class(name)
        assert not index.commit_aware_task_base(name)


def test_unresolved_relative_base_class_does_not_break_the_run(tmp_path: Path) -> None:
    """A module outside any package importing ``from .. import Base``: nothing to resolve, no crash."""
    (tmp_path / "manage.py").write_text("")
    (tmp_path / "jobs.py").write_text(
        "from django.db import transaction\n"
        "from .. import Base\n"
        "from .tasks import ship\n\n\n"
        "class Job(Base):\n    pass\n\n\n"
        "@transaction.atomic\ndef run(order):\n    ship.delay(order.pk)\n"
    )
    proc = subprocess.run(
        [str(SCRIPT), "--check", "--no-cache", "--atomic-requests=true", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 1
    assert "jobs.py:12:5: OC101" in proc.stdout, proc.stdout


DISPATCH = """\
class task:
    def __init__(self, queue=None):
        self.queue = queue

    def __call__(self, fn):
        return fn
"""

TASKS = """\
from shop.dispatch import task


@task(queue="default")
def rebuild(pk):
    return pk
"""

USES_TASKS = """\
from django.db import transaction

from shop.tasks import rebuild


def helper(pk):
    rebuild.delay(pk)


def update(obj):
    with transaction.atomic():
        obj.save()
        rebuild.delay(obj.pk)
        helper(obj.pk)
"""


def test_transactional_task_decorator_applies_across_modules(project: Path) -> None:
    """A dispatcher that publishes on Django's own connection (pg_notify) waits for COMMIT."""
    (project / "shop" / "dispatch.py").write_text(DISPATCH)
    (project / "shop" / "tasks.py").write_text(TASKS)
    (project / "shop" / "models.py").write_text(USES_TASKS)
    plain = subprocess.run(
        [str(SCRIPT), "--check", "shop/models.py"], cwd=project, capture_output=True, text=True
    )
    assert [line.split(" ")[1] for line in plain.stdout.splitlines()] == ["OC101", "OC105"]
    (project / "pyproject.toml").write_text(
        '[tool.flake8-oncommit]\ntransactional-queues = ["shop.dispatch.task"]\n'
    )
    configured = subprocess.run(
        [str(SCRIPT), "--check", "shop/models.py"], cwd=project, capture_output=True, text=True
    )
    assert (configured.returncode, configured.stdout) == (0, "")
    (project / "setup.cfg").write_text("[flake8]\noncommit-transactional-queues = shop.dispatch.task\n")
    command = [sys.executable, "-m", "flake8", "--select=OC", "shop/models.py"]
    assert subprocess.run(command, cwd=project, capture_output=True, text=True).stdout == ""


def test_a_wrapper_without_atomic_in_its_name_is_found_by_the_pre_check(project: Path) -> None:
    (project / "shop" / "db.py").write_text(TRACING.replace("traced_atomic", "write_tx"))
    views = project / "shop" / "orders.py"
    views.write_text(
        "from shop.db import write_tx\n\n\ndef place(order):\n    with write_tx():\n        t.delay(1)\n"
    )
    findings = check_source(views.read_text(), filename=str(views), project_root=project)
    assert [(f.line, f.code) for f in findings] == [(6, "OC101")]


def test_a_cached_summary_is_refreshed_when_a_module_it_used_changes(project: Path) -> None:
    """``retry_tx`` is a wrapper because ``traced_atomic`` (another module) is one."""
    (project / "shop" / "retry.py").write_text(
        "from contextlib import contextmanager\n\nfrom shop.core.tracing import traced_atomic\n\n\n"
        "@contextmanager\ndef retry_tx():\n    with traced_atomic():\n        yield\n"
    )
    assert cached_index(project).function("shop.retry.retry_tx").wrapper  # type: ignore[union-attr]
    tracing = project / "shop" / "core" / "tracing.py"
    tracing.write_text(TRACING.replace("with transaction.atomic():", "if True:"))
    later = time.time() + 5
    os.utime(tracing, (later, later))
    refreshed = cached_index(project).function("shop.retry.retry_tx")
    assert refreshed is not None and not refreshed.wrapper


def test_a_helper_caller_without_any_enqueue_word_is_checked(project: Path) -> None:
    """The text pre-check must not drop a file whose only link to a task is a project helper."""
    (project / "shop" / "svc.py").write_text(
        "from celery import shared_task\n\n\n@shared_task\ndef ship(x):\n    pass\n\n\n"
        "def plain(x):\n    ship.delay(x)\n"
    )
    (project / "shop" / "orders.py").write_text(
        "from django.db import transaction\n\nfrom shop.svc import plain\n\n\n"
        "@transaction.atomic\ndef close(x):\n    plain(x)\n"
    )
    proc = subprocess.run(
        [str(SCRIPT), "--check", "--no-cache", "shop/orders.py"], cwd=project, capture_output=True, text=True
    )
    assert "shop/orders.py:8:5: OC105 plain()" in proc.stdout, proc.stdout + proc.stderr


def test_an_immediate_flagsmith_task_is_reported_whatever_else_the_project_imports(tmp_path: Path) -> None:
    """``@register_task_handler(transaction_on_commit=False)`` makes a task of that library that
    sends at once: it is not a receiver of unknown type, so a project importing RQ and no Celery
    still gets the finding, and ``--style celery`` offers no Celery twin for it."""
    (tmp_path / "manage.py").write_text("")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "queues.py").write_text("import django_rq\n")
    source = FIXTURES / "flagsmith_task_processor.py"
    target = tmp_path / "app" / "segments.py"
    target.write_text(source.read_text())
    found = check_source(target.read_text(), filename=str(target), project_root=tmp_path)
    assert [(finding.code, finding.line) for finding in found] == [("OC101", 28)]
    celery_style = Config(style="celery")
    fixed = fix_source(target.read_text(), config=celery_style, filename=str(target), project_root=tmp_path)
    assert "partial(ping_webhook.delay" in fixed
