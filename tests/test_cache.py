"""The cache of results and module summaries: same results warm as cold, never stale.

A warm result must equal a cold one on every fixture, and after any change
that could alter it: a helper module, a settings module, the configuration,
the tool's version. Tests that prove the cache is consulted at all plant a
wrong finding in it and watch it come out (same key) or not (another key).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fixture_format import FIXTURES, all_fixtures

from flake8_oncommit import check_source, engine
from flake8_oncommit.cache import CACHE_DIR, ENV_CACHE_DIR, ENV_NO_CACHE
from flake8_oncommit.cli import main
from flake8_oncommit.config import config_from_mapping

SCRIPT = Path(sys.executable).with_name("oncommit-fix")
FIXTURE_LIST = [fixture for fixture in all_fixtures()]


class Parses:
    """Counts the analyses the engine runs (a cached answer runs none)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = engine.analyse_text

        def counting(*args: object, **kwargs: object) -> object:
            self.count += 1
            return real(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(engine, "analyse_text", counting)


def test_fixtures_give_the_same_findings_cold_and_warm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every fixture through the library API: without a cache, filling one, answered from it."""
    parses = Parses(monkeypatch)
    cache = tmp_path / "cache"
    analysed = 0
    for fixture in FIXTURE_LIST:
        config = config_from_mapping(fixture.config, fixture.name)
        where = {"config": config, "filename": str(fixture.path), "project_root": FIXTURES}
        cold = check_source(fixture.text, **where)  # type: ignore[arg-type]
        filling = check_source(fixture.text, cache_dir=cache, **where)  # type: ignore[arg-type]
        before = parses.count
        warm = check_source(fixture.text, cache_dir=cache, **where)  # type: ignore[arg-type]
        assert cold == filling == warm, fixture.name
        assert parses.count == before, f"{fixture.name}: analysed again although nothing changed"
        analysed += before > 0
    assert analysed > 40
    assert not (FIXTURES / CACHE_DIR).exists(), "the library API wrote into the project"


def copy_fixtures(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(FIXTURES, tree, ignore=shutil.ignore_patterns("*.fixed", CACHE_DIR))
    (tree / "manage.py").write_text("")
    return tree


def run(tree: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), "--check", "-q", "--format", "json", *args],
        cwd=tree,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.heavy
@pytest.mark.parametrize("options", [[], ["--atomic-requests=true", "--jobs=2"]], ids=["default", "views"])
def test_the_cli_on_the_fixtures_is_the_same_cold_and_warm(tmp_path: Path, options: list[str]) -> None:
    tree = copy_fixtures(tmp_path)
    cold = run(tree, "--no-cache", *options, ".")
    assert not (tree / CACHE_DIR).exists()
    filling = run(tree, *options, ".")
    warm = run(tree, *options, ".")
    assert (tree / CACHE_DIR / "CACHEDIR.TAG").is_file()
    assert (tree / CACHE_DIR / ".gitignore").read_text().splitlines()[-1] == "*"
    findings = json.loads(cold.stdout)["findings"]
    assert len(findings) > 100
    assert cold.stdout == filling.stdout == warm.stdout
    assert cold.returncode == filling.returncode == warm.returncode == 1


# --------------------------------------------------------------------------
# A small project whose every part can be edited between runs.

HELPERS = """\
from shop.tasks import ship


def notify(order):
    {body}
"""

VIEWS = """\
from django.db import transaction

from shop.helpers import notify
from shop.tasks import ship


def place(request, order):
    with transaction.atomic():
        order.save()
        notify(order)
    ship.delay(order.pk)


def pay(order):
    with transaction.atomic():
        ship.delay(order.pk)
"""

TASKS = """\
from celery import shared_task


@shared_task
def ship(pk):
    return pk
"""

JOBS = """\
from django.db import transaction
from django_q.tasks import async_task


def enqueue(order):
    with transaction.atomic():
        async_task("shop.tasks.ship", order.pk)
"""


#: What the small project holds, as ``check`` reports it.
ALL = ["./shop/jobs.py:7 OC101", "./shop/views.py:10 OC105", "./shop/views.py:16 OC101"]


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "shop").mkdir(parents=True)
    (root / "manage.py").write_text("")
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "tasks.py").write_text(TASKS)
    (root / "shop" / "helpers.py").write_text(HELPERS.format(body="ship.delay(order.pk)"))
    (root / "shop" / "views.py").write_text(VIEWS)
    (root / "shop" / "jobs.py").write_text(JOBS)
    (root / "shop" / "settings.py").write_text('DATABASES = {"default": {"ENGINE": "x"}}\n')
    return root


def check(root: Path, *args: str) -> list[str]:
    """``oncommit-fix --check`` in-process: the findings as ``file:line CODE``."""
    return _check(root, False, *args)


def _check(root: Path, cold: bool, *args: str) -> list[str]:
    import contextlib
    import io

    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(root)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            cache = ["--no-cache"] if cold else []
            main(["--check", "-q", "--jobs", "1", "--format", "json", *cache, *args, "."])
    finally:
        os.chdir(cwd)
    return [f"{f['path']}:{f['line']} {f['code']}" for f in json.loads(out.getvalue())["findings"]]


def same_as_cold(root: Path, *args: str) -> list[str]:
    warm = check(root, *args)
    assert warm == _check(root, True, *args)
    return warm


def seen_on_then_off(root: Path, module: Path, template: str, bodies: tuple[str, str], where: str) -> None:
    """Write ``module`` from ``template`` with a body that enqueues, then with one that does not:
    the OC105 at ``where`` (``file:line`` in ``shop/``) appears, then goes, warm as cold."""
    on, off = bodies
    module.write_text(template.format(body=on))
    assert f"./shop/{where} OC105" in same_as_cold(root)
    module.write_text(template.format(body=off))
    later(module)
    assert f"./shop/{where} OC105" not in same_as_cold(root)


def later(path: Path) -> None:
    """A new mtime, whatever the file system's resolution."""
    stamp = time.time() + 10
    os.utime(path, (stamp, stamp))


def test_editing_a_helper_module_is_seen_by_its_callers(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parses = Parses(monkeypatch)
    assert same_as_cold(shop) == ALL
    helper = shop / "shop" / "helpers.py"
    helper.write_text(HELPERS.format(body="return order"))
    later(helper)
    parses.count = 0
    assert check(shop) == ["./shop/jobs.py:7 OC101", "./shop/views.py:16 OC101"]
    assert parses.count == 1, "views.py calls the helper: checked again; jobs.py does not: from the cache"
    assert same_as_cold(shop) == ["./shop/jobs.py:7 OC101", "./shop/views.py:16 OC101"]
    helper.write_text(HELPERS.format(body="ship.delay(order.pk)"))
    later(helper)
    assert same_as_cold(shop) == ALL


def test_a_comment_in_a_helper_costs_no_check_of_its_callers(
    shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    check(shop)
    parses = Parses(monkeypatch)
    helper = shop / "shop" / "helpers.py"
    helper.write_text(helper.read_text() + "# a comment\n")
    later(helper)
    assert check(shop) == ALL
    assert parses.count == 0


def test_a_new_function_in_a_helper_costs_no_check_of_callers_of_another(
    shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a caller asked about one name of a module is kept per name, not per module."""
    check(shop)
    parses = Parses(monkeypatch)
    helper = shop / "shop" / "helpers.py"
    helper.write_text(helper.read_text() + "\n\ndef other(order):\n    ship.delay(order.pk)\n")
    later(helper)
    assert check(shop) == ALL
    assert parses.count == 0
    assert same_as_cold(shop) == ALL


def test_a_touched_tree_is_not_checked_again(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    check(shop)
    parses = Parses(monkeypatch)
    for path in (shop / "shop").glob("*.py"):
        later(path)
    assert check(shop) == ALL
    assert parses.count == 0


def test_editing_the_settings_changes_the_configuration(shop: Path) -> None:
    settings = shop / "shop" / "settings.py"
    before = same_as_cold(shop, "--atomic-requests=auto")
    assert "./shop/views.py:11 OC106" not in before
    settings.write_text('DATABASES = {"default": {"ENGINE": "x", "ATOMIC_REQUESTS": True}}\n')
    later(settings)
    assert "./shop/views.py:11 OC106" in same_as_cold(shop, "--atomic-requests=auto")
    # django-q's ORM broker makes its jobs wait for the commit.
    assert "./shop/jobs.py:7 OC101" in same_as_cold(shop)
    settings.write_text(settings.read_text() + 'Q_CLUSTER = {"name": "shop", "orm": "default"}\n')
    later(settings)
    assert "./shop/jobs.py:7 OC101" not in same_as_cold(shop)


def test_editing_the_configuration_changes_the_results(shop: Path) -> None:
    assert "./shop/views.py:16 OC101" in same_as_cold(shop)
    pyproject = shop / "pyproject.toml"
    pyproject.write_text('[tool.flake8-oncommit]\ntransactional-queues = ["shop.tasks.ship"]\n')
    assert same_as_cold(shop) == ["./shop/jobs.py:7 OC101"]
    (shop / "pyproject.toml").write_text('[tool.flake8-oncommit]\nselect = ["OC105"]\n')
    assert same_as_cold(shop) == ["./shop/views.py:10 OC105"]


def plant(cache: Path, code: str) -> int:
    """Replace every stored finding with a made-up one; how many entries were changed."""
    planted = 0
    for entry in cache.glob("*/*/results/*.json"):
        data = json.loads(entry.read_text())
        if data["findings"]:
            data["findings"] = [[1, 0, code, "planted", 1, 0, False, None]]
            entry.write_text(json.dumps(data))
            planted += 1
    return planted


def test_a_stored_result_is_used_only_under_the_same_version(
    shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    check(shop)
    assert plant(shop / CACHE_DIR, "OC999") == 2
    assert check(shop) == ["./shop/jobs.py:1 OC999", "./shop/views.py:1 OC999"]  # the cache is consulted
    monkeypatch.setattr("flake8_oncommit.cache.__version__", "99.0")
    assert check(shop) == ALL


def test_a_stored_result_is_not_used_for_an_edited_file(shop: Path) -> None:
    check(shop)
    plant(shop / CACHE_DIR, "OC999")
    views = shop / "shop" / "views.py"
    views.write_text("\n" + VIEWS)
    later(views)
    assert "./shop/views.py:17 OC101" in check(shop)


# --------------------------------------------------------------------------
# Where the cache lives


def test_cache_dir_flag_environment_and_key(
    shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_CACHE_DIR, raising=False)
    check(shop, "--cache-dir", str(tmp_path / "flag"))
    assert (tmp_path / "flag" / "CACHEDIR.TAG").is_file() and not (shop / CACHE_DIR).exists()
    monkeypatch.setenv(ENV_CACHE_DIR, str(tmp_path / "env"))
    check(shop)
    assert (tmp_path / "env" / "CACHEDIR.TAG").is_file() and not (shop / CACHE_DIR).exists()
    check(shop, "--cache-dir", str(tmp_path / "flag2"))  # the flag wins
    assert (tmp_path / "flag2").is_dir()
    monkeypatch.delenv(ENV_CACHE_DIR)
    (shop / "pyproject.toml").write_text('[tool.flake8-oncommit]\ncache-dir = "build/oncommit"\n')
    check(shop)
    assert (shop / "build" / "oncommit" / "CACHEDIR.TAG").is_file() and not (shop / CACHE_DIR).exists()
    monkeypatch.setenv(ENV_NO_CACHE, "1")
    shutil.rmtree(shop / "build")
    check(shop)
    assert not (shop / "build").exists()


def test_no_cache_outside_a_project(tmp_path: Path) -> None:
    """A tree without a root marker (site-packages, a download) gets no cache of its own."""
    tree = tmp_path / "lib" / "site-packages" / "pkg"
    tree.mkdir(parents=True)
    (tree / "mod.py").write_text(VIEWS)
    found = check(tree)
    assert found == ["./mod.py:16 OC101"]
    assert list(tmp_path.rglob(CACHE_DIR)) == []


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else False, reason="root writes anyway")
def test_a_read_only_tree_is_checked_without_a_cache(shop: Path) -> None:
    for directory in (shop / "shop", shop):
        directory.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        assert check(shop) == same_as_cold(shop)
        assert not (shop / CACHE_DIR).exists()
    finally:
        for directory in (shop, shop / "shop"):
            directory.chmod(stat.S_IRWXU)


def test_an_unwritable_cache_directory_is_not_an_error(shop: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    assert check(shop, "--cache-dir", str(blocker / "cache")) == same_as_cold(shop)


def test_a_corrupt_cache_is_ignored(shop: Path) -> None:
    check(shop)
    for entry in (shop / CACHE_DIR).rglob("*.json"):
        entry.write_text("{not json")
    assert check(shop) == same_as_cold(shop)


# --------------------------------------------------------------------------
# The library API and flake8


def test_the_library_api_sees_an_edited_helper(shop: Path, tmp_path: Path) -> None:
    views = shop / "shop" / "views.py"
    where = {"filename": str(views), "project_root": shop}
    helper = shop / "shop" / "helpers.py"
    for cache_dir in (None, tmp_path / "cache"):
        helper.write_text(HELPERS.format(body="ship.delay(order.pk)"))
        later(helper)
        assert [f.code for f in check_source(VIEWS, cache_dir=cache_dir, **where)] == ["OC105", "OC101"]  # type: ignore[arg-type]
        helper.write_text(HELPERS.format(body="return order"))
        later(helper)
        assert [f.code for f in check_source(VIEWS, cache_dir=cache_dir, **where)] == ["OC101"]  # type: ignore[arg-type]
    assert not (shop / CACHE_DIR).exists()
    assert (tmp_path / "cache" / "CACHEDIR.TAG").is_file()


@pytest.mark.heavy
def test_flake8_shares_one_cache_between_runs_and_workers(shop: Path) -> None:
    command = [sys.executable, "-m", "flake8", "--select=OC", "--jobs=2", "shop"]
    no_cache = {**os.environ, ENV_NO_CACHE: "1"}
    cold = subprocess.run(command, cwd=shop, capture_output=True, text=True, env=no_cache)
    assert not (shop / CACHE_DIR).exists()
    filling = subprocess.run(command, cwd=shop, capture_output=True, text=True)
    assert (shop / CACHE_DIR / "CACHEDIR.TAG").is_file()
    plant(shop / CACHE_DIR, "OC999")
    planted = subprocess.run(command, cwd=shop, capture_output=True, text=True)
    assert "OC999 planted" in planted.stdout  # answered from the cache
    assert sorted(cold.stdout.splitlines()) == sorted(filling.stdout.splitlines())
    assert "shop/views.py:10:9: OC105" in cold.stdout


@pytest.mark.heavy
def test_a_warm_run_does_not_import_the_parser(shop: Path) -> None:
    check(shop)
    probe = (
        "import sys, contextlib, io\n"
        "from flake8_oncommit.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['--check', '-q', '.'])\n"
        "print('libcst' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], cwd=shop, capture_output=True, text=True)
    assert proc.stdout.strip() == "False", proc.stderr


def test_a_helper_that_starts_invalidating_the_cache_is_seen_warm(shop: Path) -> None:
    """The summaries record side effects too (OC109 through a helper of another module)."""
    assert "./shop/views.py:10 OC109" not in same_as_cold(shop)
    helpers = shop / "shop" / "helpers.py"
    helpers.write_text(
        "from django.core.cache import cache\n" + HELPERS.format(body='cache.delete(f"order:{order.pk}")')
    )
    later(helpers)
    assert "./shop/views.py:10 OC109" in same_as_cold(shop)


def test_a_helper_re_exported_by_a_star_import_is_followed_warm(shop: Path) -> None:
    """``from .helpers import *`` in the package: the chain goes through it, and an edit is seen."""
    (shop / "shop" / "__init__.py").write_text("from .helpers import *  # noqa: F403\n")
    views = shop / "shop" / "views.py"
    views.write_text(VIEWS.replace("from shop.helpers import notify", "from shop import notify"))
    assert "./shop/views.py:10 OC105" in same_as_cold(shop)
    helpers = shop / "shop" / "helpers.py"
    helpers.write_text(HELPERS.format(body="return order.pk"))
    later(helpers)
    assert "./shop/views.py:10 OC105" not in same_as_cold(shop)


MODELS = """\
from django.db import models


class Order(models.Model):
    pass
"""

SAVES = """\
from django.db import transaction

from shop.models import Order


def archive(pk):
    with transaction.atomic():
        order = Order.objects.get(pk=pk)
        order.save()
"""

RECEIVERS = """\
from django.db.models.signals import post_save
from django.dispatch import receiver

from shop.models import Order
from shop.tasks import ship


@receiver(post_save, sender=Order)
def shipped(sender, instance, **kwargs):
    {body}
"""


def test_a_signal_receiver_in_another_module_is_followed_warm(shop: Path) -> None:
    """The project's receiver table is a dependency: adding, changing or removing a receiver
    module anywhere re-checks the file whose save() sends the signal."""
    (shop / "shop" / "models.py").write_text(MODELS)
    (shop / "shop" / "saves.py").write_text(SAVES)
    assert "./shop/saves.py:9 OC105" not in same_as_cold(shop)
    receivers = shop / "shop" / "receivers.py"
    seen_on_then_off(
        shop, receivers, RECEIVERS, ("ship.delay(instance.pk)", "return instance.pk"), "saves.py:9"
    )
    receivers.write_text(RECEIVERS.format(body="ship.delay(instance.pk)"))
    later(receivers)
    assert "./shop/saves.py:9 OC105" in same_as_cold(shop)
    receivers.unlink()
    assert "./shop/saves.py:9 OC105" not in same_as_cold(shop)


MIXINS = """\
from shop.tasks import ship
from shop.payments import Gateway


class PaymentMixin:
    def charge(self, order):
{body}


class Holder:
    pass
"""

PAYMENTS = """\
from shop.tasks import ship


class Gateway:
    def charge(self, order):
        ship.delay(order.pk)
"""

CHECKOUT = """\
from django.db import transaction

from shop.mixins import PaymentMixin, Holder


class CheckoutView(PaymentMixin):
    def post(self, order, holder: Holder):
        with transaction.atomic():
            self.charge(order)
            holder.charge(order)
"""


def test_a_method_inherited_from_another_module_is_followed_warm(shop: Path) -> None:
    """``self.charge()`` reaches a mixin of another module; an annotated receiver's class there
    starts inheriting it from a third module: each edit of the mixin module is seen warm."""
    mixins = shop / "shop" / "mixins.py"
    mixins.write_text(MIXINS.format(body="        ship.delay(order.pk)"))
    (shop / "shop" / "payments.py").write_text(PAYMENTS)
    (shop / "shop" / "checkout.py").write_text(CHECKOUT)
    found = same_as_cold(shop)
    assert "./shop/checkout.py:9 OC105" in found
    assert "./shop/checkout.py:10 OC105" not in found
    mixins.write_text(MIXINS.format(body="        return order"))
    later(mixins)
    assert "./shop/checkout.py:9 OC105" not in same_as_cold(shop)
    # Only Holder's bases change: no function of the module does.
    mixins.write_text(
        MIXINS.format(body="        return order").replace("class Holder:", "class Holder(Gateway):")
    )
    later(mixins)
    assert "./shop/checkout.py:10 OC105" in same_as_cold(shop)


OWN_QUEUE = """\
class task:
    def __init__(self, queue=None):
        self.queue = queue

    def __call__(self, fn):
        class Published:
            @classmethod
            def delay(cls, *args):
                notify(args)

        return Published
"""

OWN_TASKS = """\
from shop.publish import task


@task(queue="default")
def rebuild(pk):
    pass
"""

OWN_SENDS = """\
from django.db import transaction

from shop.owntasks import rebuild


@transaction.atomic
def update(obj):
    obj.save()
    rebuild.delay(obj.pk)
"""


def test_a_project_queue_built_on_a_library_later_is_seen_warm(shop: Path) -> None:
    """The project's own queue is not reported; once its module is built on Celery, it is."""
    publish = shop / "shop" / "publish.py"
    publish.write_text(OWN_QUEUE)
    (shop / "shop" / "owntasks.py").write_text(OWN_TASKS)
    (shop / "shop" / "ownsends.py").write_text(OWN_SENDS)
    assert not [line for line in same_as_cold(shop) if "ownsends" in line]
    publish.write_text(
        "from celery import shared_task\n\n\ndef task(**options):\n    return shared_task(**options)\n"
    )
    later(publish)
    assert "./shop/ownsends.py:9 OC101" in same_as_cold(shop)


UNKNOWN_SENDS = """\
from django.db import transaction

from ops.models import JobResult
from vendor_reports.tasks import build_report


@transaction.atomic
def start(job):
    job.save()
    task_cls = job.task_class()
    task_cls.apply_async([job.pk])
    JobResult.enqueue_job(job)
    build_report.delay(job.pk)
"""


def test_a_send_method_of_a_library_the_project_never_imports_is_its_own_warm(tmp_path: Path) -> None:
    """``x.apply_async()`` on a receiver of unknown type is Celery's only in a project that may
    send through Celery: one that imports it, or one that shows no way of sending at all. awx
    sends through its own dispatcher and imports no Celery; nautobot imports Celery and no RQ, so
    ``JobResult.enqueue_job()`` is its model's. A task from an installed package still counts.
    How the project sends is a dependency of cached results: each change is seen warm."""
    root = tmp_path / "proj"
    (root / "ops").mkdir(parents=True)
    (root / "manage.py").write_text("")
    (root / "ops" / "__init__.py").write_text("")
    (root / "ops" / "models.py").write_text("class JobResult:\n    pass\n")
    (root / "ops" / "sends.py").write_text(UNKNOWN_SENDS)

    def lines(*numbers: int) -> list[str]:
        return [f"./ops/sends.py:{line} OC101" for line in numbers]

    assert same_as_cold(root) == lines(11, 12, 13), "nothing shows how it sends: every library may"
    (root / "ops" / "publish.py").write_text(OWN_QUEUE)
    assert same_as_cold(root) == lines(13), "its own queue, no library: only the installed package's task"
    app = root / "ops" / "celery_app.py"
    app.write_text('from celery import Celery\n\napp = Celery("ops")\n')
    assert same_as_cold(root) == lines(11, 13)
    (root / "ops" / "queues.py").write_text("import django_rq\n")
    assert same_as_cold(root) == lines(11, 12, 13)
    app.unlink()
    (root / "ops" / "queues.py").unlink()
    assert same_as_cold(root) == lines(13)


HOOKED = """\
from django.db import transaction


class Checkout:
    def complete(self, order):
        with transaction.atomic():
            order.save()
            self.after_payment(order)

    def after_payment(self, order):
        pass
"""

PARTNER = """\
from shop.checkout import Checkout
from shop.tasks import ship


class PartnerCheckout(Checkout):
    def after_payment(self, order):
        {body}
"""


def test_an_override_in_another_module_is_followed_warm(shop: Path) -> None:
    """A hook the base calls in a block: a subclass elsewhere that enqueues is seen when it
    appears, changes or goes (the question depends on the whole tree's text)."""
    (shop / "shop" / "checkout.py").write_text(HOOKED)
    assert "./shop/checkout.py:8 OC105" not in same_as_cold(shop)
    partner = shop / "shop" / "partner.py"
    seen_on_then_off(shop, partner, PARTNER, ("ship.delay(order.pk)", "return None"), "checkout.py:8")


FLAGGED = """\
from shop.tasks import ship


def sync(order, asynchronous=False):
    {body}
"""

RELAY = """\
from shop.flagged import sync


def relay(order, asynchronous={default}):
    sync(order, asynchronous)
"""

ORDERS = """\
from django.db import transaction

from shop.relay import relay


def close(order):
    with transaction.atomic():
        order.save()
        relay(order)
"""


def test_a_flag_passed_down_through_other_modules_is_followed_warm(shop: Path) -> None:
    """``relay(order)`` leaves the flag ``sync`` in a third module sends under off: each edit that
    turns the send on (the default of the flag passed down, the ``if`` around the send) is seen warm."""
    flagged = shop / "shop" / "flagged.py"
    relay = shop / "shop" / "relay.py"
    flagged.write_text(FLAGGED.format(body="if asynchronous:\n        ship.delay(order.pk)"))
    relay.write_text(RELAY.format(default="False"))
    (shop / "shop" / "orders.py").write_text(ORDERS)
    assert "./shop/orders.py:9 OC105" not in same_as_cold(shop)
    relay.write_text(RELAY.format(default="True"))
    later(relay)
    assert "./shop/orders.py:9 OC105" in same_as_cold(shop)
    relay.write_text(RELAY.format(default="False"))
    later(relay)
    assert "./shop/orders.py:9 OC105" not in same_as_cold(shop)
    flagged.write_text(FLAGGED.format(body="ship.delay(order.pk)"))
    later(flagged)
    assert "./shop/orders.py:9 OC105" in same_as_cold(shop)
