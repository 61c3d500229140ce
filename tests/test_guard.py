"""The test-suite guard in this process: real Django transactions, real task libraries.

Each scenario runs under a :class:`Guard` started for the test and stopped
after it, against in-memory SQLite and each library's in-memory broker
(Celery ``memory://`` with ``task_always_eager=False``, Huey's MemoryHuey,
Dramatiq's StubBroker, RQ on fakeredis, django-tasks' DummyBackend). The
sends and blocks are marked with trailing comments (``# send: name``,
``# block: name``) and findings are compared against those lines. Whole
projects under pytest-django and ``manage.py test`` are in
``test_guard_project.py`` (heavy tier).
"""

from __future__ import annotations

import sys
import textwrap
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import pytest

django = pytest.importorskip("django")
celery = pytest.importorskip("celery")

from django.conf import settings  # noqa: E402

if not settings.configured:
    # The same settings as test_semantics.py: whichever module is collected
    # first configures the process.
    settings.configure(
        DATABASES={
            "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
            "other": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
        },
        INSTALLED_APPS=[],
        USE_TZ=True,
    )
    django.setup()

from django.core.handlers.base import BaseHandler  # noqa: E402
from django.db import connections, transaction  # noqa: E402
from django.test import RequestFactory, TestCase  # noqa: E402
from django.views import View  # noqa: E402

from flake8_oncommit.config import Config  # noqa: E402
from flake8_oncommit.runtime import Guard, GuardError, RaceFinding  # noqa: E402
from flake8_oncommit.runtime.transactions import thread_state  # noqa: E402

HERE = Path(__file__).resolve()

app = celery.Celery(
    "guardtests", broker="memory://", task_cls="celery.contrib.django.task:DjangoTask", set_as_current=False
)
app.conf.task_always_eager = False
app.conf.broker_connection_retry_on_startup = False


@app.task(name="guardtests.notify")
def notify(pk: int) -> int:
    return pk


@app.task(name="guardtests.fan_out")
def fan_out(pk: int) -> int:
    notify.delay(pk)  # send: fan-out-inner
    return pk


def line_of(marker: str) -> int:
    """The line of this file whose comment ends with ``<marker>``."""
    for number, text in enumerate(HERE.read_text(encoding="utf-8").splitlines(), 1):
        if text.rstrip().endswith(f" {marker}"):
            return number
    raise AssertionError(f"no line marked {marker!r}")


def summary(guard: Guard) -> set[tuple[str, int, int]]:
    """``(code, send line, block line)`` of every finding in this file."""
    found = set()
    for finding in guard.findings:
        assert Path(finding.send.filename).resolve() == HERE, finding.format(guard.root)
        found.add((finding.code, finding.send.line, finding.block.line))
    return found


@pytest.fixture
def guard() -> Iterator[Guard]:
    with Guard(root=HERE.parent) as running:
        yield running


class FrameworkBlocks(TestCase):
    """Opens exactly the blocks Django's TestCase opens around a class and a test."""

    databases: ClassVar[set[str]] = {"default", "other"}


# -- the scenarios -------------------------------------------------------------


def direct() -> None:
    with transaction.atomic():  # block: direct
        notify.delay(1)  # send: direct


@transaction.atomic  # block: decorated
def decorated() -> None:
    notify.apply_async((2,), countdown=1)  # send: decorated


def nested() -> None:
    with transaction.atomic(), transaction.atomic(using="other"):  # block: nested-inner
        notify.delay(3)  # send: nested


def deferred() -> None:
    with transaction.atomic():
        transaction.on_commit(partial(notify.delay, 4))


def deferred_celery() -> None:
    with transaction.atomic():
        notify.delay_on_commit(5)
        notify.apply_async_on_commit((6,))


def after_block() -> None:
    with transaction.atomic():
        pass
    notify.delay(7)


def send_task_by_name() -> None:
    with transaction.atomic():  # block: send-task
        app.send_task("guardtests.notify", args=(8,))  # send: send-task


def canvas() -> None:
    with transaction.atomic():  # block: canvas
        celery.chain(notify.s(9), notify.s()).apply_async()  # send: canvas


class Notifier:
    def notify(self, pk: int) -> None:
        pass


class QueueNotifier(Notifier):
    def notify(self, pk: int) -> None:
        notify.delay(pk)  # send: override


NOTIFIERS: dict[str, type[Notifier]] = {"plain": Notifier, "queue": QueueNotifier}


def through_registry(kind: str) -> None:
    with transaction.atomic():  # block: registry
        NOTIFIERS[kind]().notify(10)


def silenced_on_send() -> None:
    with transaction.atomic():
        notify.delay(11)  # noqa: OC101


def silenced_on_block() -> None:
    with transaction.atomic():  # noqa: OC101
        notify.delay(12)


@transaction.atomic  # noqa
def silenced_on_decorator() -> None:
    notify.delay(13)


def wrong_code_noqa() -> None:
    with transaction.atomic():  # block: wrong-noqa
        notify.delay(14)  # noqa: OC106  send: wrong-noqa


# -- OC101 ---------------------------------------------------------------------


def test_direct_enqueue_in_atomic_block_is_reported_with_both_locations(guard: Guard) -> None:
    direct()
    direct()
    assert summary(guard) == {("OC101", line_of("send: direct"), line_of("block: direct"))}
    (finding,) = guard.findings
    assert finding.count == 2
    assert finding.library == "celery"
    assert finding.message.startswith("Celery task 'guardtests.notify' enqueued inside transaction.atomic()")
    assert finding.message.endswith("(observed at run time)")
    assert finding.send.function == "direct"
    assert [frame.function for frame in finding.send_stack][-2:] == [
        "test_direct_enqueue_in_atomic_block_is_reported_with_both_locations",
        "direct",
    ]
    assert finding.block_description == "atomic block on database 'default'"
    report = guard.report()
    assert "1 distinct race (2 of 2 sends" in report
    assert f"test_guard.py:{line_of('send: direct')}: OC101 " in report


def test_decorated_function_is_the_block(guard: Guard) -> None:
    decorated()
    assert summary(guard) == {("OC101", line_of("send: decorated"), line_of("block: decorated"))}
    (finding,) = guard.findings
    assert finding.block.function == "decorated"
    assert finding.block_stack[-1].function == "decorated"
    assert finding.block_stack[-2].function == "test_decorated_function_is_the_block"


def test_innermost_block_is_named(guard: Guard) -> None:
    nested()
    assert summary(guard) == {("OC101", line_of("send: nested"), line_of("block: nested-inner"))}
    assert guard.findings[0].block_description == "atomic block on database 'other'"


def test_sends_deferred_to_the_commit_are_not_reported(guard: Guard) -> None:
    deferred()
    deferred_celery()
    after_block()
    assert guard.findings == []
    assert guard.sends == 4, "the deferred jobs were sent, after the commit"


def wrong_database() -> None:
    with transaction.atomic(using="other"):  # block: wrong-database
        transaction.on_commit(partial(notify.delay, 23))  # send: wrong-database
        transaction.on_commit(partial(notify.delay, 24), using="other")


def test_on_commit_on_another_database_runs_at_once_and_is_oc104(guard: Guard) -> None:
    wrong_database()
    assert summary(guard) == {("OC104", line_of("send: wrong-database"), line_of("block: wrong-database"))}
    assert guard.findings[0].message.startswith(
        "on_commit() registered on 'default' inside atomic(using='other'); it fires on the wrong commit"
    )
    assert guard.sends == 2


def test_send_task_and_canvases(guard: Guard) -> None:
    send_task_by_name()
    canvas()
    assert summary(guard) == {
        ("OC101", line_of("send: send-task"), line_of("block: send-task")),
        ("OC101", line_of("send: canvas"), line_of("block: canvas")),
    }
    assert all(finding.count == 1 for finding in guard.findings), "one send, one report"


def test_subclass_override_chosen_at_run_time(guard: Guard) -> None:
    through_registry("plain")
    assert guard.findings == []
    through_registry("queue")
    assert summary(guard) == {("OC101", line_of("send: override"), line_of("block: registry"))}
    (finding,) = guard.findings
    assert [frame.function for frame in finding.send_stack][-2:] == ["through_registry", "notify"]


def test_eager_mode_reports_the_send_and_not_the_tasks_own_sends(guard: Guard) -> None:
    app.conf.task_always_eager = True
    try:
        with transaction.atomic():  # block: eager
            fan_out.delay(15)  # send: eager
    finally:
        app.conf.task_always_eager = False
    assert summary(guard) == {("OC101", line_of("send: eager"), line_of("block: eager"))}


def test_noqa_on_the_send_or_the_block_line(guard: Guard) -> None:
    silenced_on_send()
    silenced_on_block()
    silenced_on_decorator()
    wrong_code_noqa()
    wrong_code_noqa()
    assert summary(guard) == {("OC101", line_of("send: wrong-noqa"), line_of("block: wrong-noqa"))}
    assert guard.findings[0].count == 2


def test_read_only_databases_and_transactional_queues_are_not_reported() -> None:
    config = Config(read_only_databases=frozenset({"other"}), transactional_queues=frozenset())
    with Guard(config) as guard:
        with transaction.atomic(using="other"):
            notify.delay(16)
        assert guard.findings == []
    config = Config(transactional_queues=frozenset({"guardtests.notify"}))
    with Guard(config) as guard:
        direct()
        assert guard.findings == []
    with Guard(Config(ignore=frozenset({"OC101"}))) as guard:
        direct()
        assert guard.findings == []


def test_another_threads_transaction_is_not_this_send(guard: Guard) -> None:
    entered, release = threading.Event(), threading.Event()

    def hold_a_transaction() -> None:
        with transaction.atomic():
            entered.set()
            release.wait(10)
        connections.close_all()

    holder = threading.Thread(target=hold_a_transaction)
    holder.start()
    try:
        assert entered.wait(10)
        notify.delay(17)
    finally:
        release.set()
        holder.join(10)
    assert guard.findings == []


# -- the test framework's blocks ------------------------------------------------


def test_testcase_blocks_are_the_frameworks_and_never_reported(guard: Guard) -> None:
    class_atomics = FrameworkBlocks._enter_atomics()
    try:
        test_atomics = FrameworkBlocks._enter_atomics()
        try:
            notify.delay(18)
            assert guard.findings == []
            direct()
        finally:
            FrameworkBlocks._rollback_atomics(test_atomics)
    finally:
        FrameworkBlocks._rollback_atomics(class_atomics)
    assert summary(guard) == {("OC101", line_of("send: direct"), line_of("block: direct"))}


def test_on_commit_callbacks_captured_by_testcase_are_not_reported(guard: Guard) -> None:
    atomics = FrameworkBlocks._enter_atomics()
    try:
        with FrameworkBlocks.captureOnCommitCallbacks(execute=True) as callbacks:
            deferred()
        assert len(callbacks) == 1
    finally:
        FrameworkBlocks._rollback_atomics(atomics)
    assert guard.findings == []
    assert guard.sends == 1


# -- ATOMIC_REQUESTS (OC106) ---------------------------------------------------


@pytest.fixture
def atomic_requests() -> Iterator[None]:
    connection_settings = connections.settings["default"]
    connection_settings["ATOMIC_REQUESTS"] = True
    try:
        yield
    finally:
        connection_settings["ATOMIC_REQUESTS"] = False


def signup(request: Any) -> str:  # block: signup-view
    notify.delay(19)  # send: signup
    return "ok"


def checkout(request: Any) -> str:
    with transaction.atomic():  # block: checkout
        notify.delay(20)  # send: checkout
    return "ok"


@transaction.non_atomic_requests
def webhook(request: Any) -> str:
    notify.delay(21)
    return "ok"


class OrderView(View):  # block: order-view
    def post(self, request: Any) -> str:
        notify.delay(22)  # send: order-view
        return "ok"


def serve(view: Any, path: str = "/orders/") -> Any:
    """What Django's handler does with a view: ``make_view_atomic``, then call it."""
    return BaseHandler().make_view_atomic(view)(RequestFactory().post(path))


@pytest.mark.usefixtures("atomic_requests")
def test_request_transaction_is_oc106(guard: Guard) -> None:
    serve(signup, "/signup/")
    assert summary(guard) == {("OC106", line_of("send: signup"), line_of("block: signup-view"))}
    (finding,) = guard.findings
    assert finding.message.startswith(
        "Celery task 'guardtests.notify' enqueued in a view, inside the request transaction (ATOMIC_REQUESTS)"
    )
    assert finding.block_description == "request POST /signup/ under ATOMIC_REQUESTS on database 'default'"


@pytest.mark.usefixtures("atomic_requests")
def test_view_block_inside_request_transaction_is_oc101_and_class_views_are_named(guard: Guard) -> None:
    serve(checkout)
    serve(OrderView.as_view())
    serve(webhook)
    assert summary(guard) == {
        ("OC101", line_of("send: checkout"), line_of("block: checkout")),
        ("OC106", line_of("send: order-view"), line_of("block: order-view")),
    }


@pytest.mark.usefixtures("atomic_requests")
def test_request_transaction_under_testcase_blocks(guard: Guard) -> None:
    atomics = FrameworkBlocks._enter_atomics()
    try:
        serve(signup)
    finally:
        FrameworkBlocks._rollback_atomics(atomics)
    assert summary(guard) == {("OC106", line_of("send: signup"), line_of("block: signup-view"))}


def test_without_atomic_requests_a_view_is_not_a_transaction(guard: Guard) -> None:
    serve(signup)
    assert guard.findings == []


# -- other libraries -----------------------------------------------------------


def test_huey(guard: Guard) -> None:
    huey = pytest.importorskip("huey")
    queue = huey.MemoryHuey("guardtests", immediate=False)

    @queue.task()
    def resize(pk: int) -> int:
        return pk

    with transaction.atomic():  # block: huey
        resize(1)  # send: huey
    with transaction.atomic():
        transaction.on_commit(partial(resize, 2))
    assert summary(guard) == {("OC101", line_of("send: huey"), line_of("block: huey"))}
    assert guard.findings[0].message.startswith("Huey task ")
    assert len(queue) == 2


def test_dramatiq_with_a_broker_defined_after_the_guard_started(guard: Guard) -> None:
    dramatiq = pytest.importorskip("dramatiq")

    class ListBroker(dramatiq.Broker):  # type: ignore[misc]
        """A broker class defined while the guard runs: its enqueue is wrapped too."""

        def __init__(self) -> None:
            super().__init__(middleware=[])
            self.sent: list[Any] = []

        def declare_queue(self, queue_name: str) -> None:
            self.queues[queue_name] = None

        def enqueue(self, message: Any, *, delay: int | None = None) -> Any:
            self.sent.append(message)
            return message

    from dramatiq.brokers.stub import StubBroker

    for broker in (StubBroker(), ListBroker()):

        @dramatiq.actor(broker=broker, actor_name=f"resize_{type(broker).__name__}")
        def resize(pk: int) -> None:
            pass

        with transaction.atomic():  # block: dramatiq
            resize.send(1)  # send: dramatiq
        with transaction.atomic():
            transaction.on_commit(partial(resize.send, 2))
    assert summary(guard) == {("OC101", line_of("send: dramatiq"), line_of("block: dramatiq"))}
    assert guard.findings[0].count == 2
    assert len(broker.sent) == 2


def test_rq_on_fakeredis(guard: Guard) -> None:
    rq = pytest.importorskip("rq")
    fakeredis = pytest.importorskip("fakeredis")
    from datetime import timedelta

    queue = rq.Queue("guardtests", connection=fakeredis.FakeStrictRedis())
    with transaction.atomic():  # block: rq
        queue.enqueue(len, "abc")  # send: rq
        queue.enqueue_in(timedelta(seconds=5), len, "de")  # send: rq-in
    with transaction.atomic():
        transaction.on_commit(partial(queue.enqueue, len, "f"))
    assert summary(guard) == {
        ("OC101", line_of("send: rq"), line_of("block: rq")),
        ("OC101", line_of("send: rq-in"), line_of("block: rq")),
    }
    assert guard.sends == 3


def reindex_function(pk: int) -> None:
    """A django-tasks task must be a module-level function."""


def test_django_tasks(guard: Guard) -> None:
    pytest.importorskip("django_tasks")
    from django.test import override_settings

    with override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}):
        from django_tasks import task

        reindex = task()(reindex_function)
        with transaction.atomic():  # block: django-tasks
            reindex.enqueue(1)  # send: django-tasks
        with transaction.atomic():
            transaction.on_commit(partial(reindex.enqueue, 2))
    assert summary(guard) == {("OC101", line_of("send: django-tasks"), line_of("block: django-tasks"))}
    assert guard.findings[0].message.startswith("Django task ")
    assert guard.sends == 2


# -- configured enqueue functions and the import hook -------------------------


def test_configured_enqueue_function_imported_before_and_after_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "guard_outbox.py").write_text(
        "SENT = []\n\ndef offload(name, *args):\n    SENT.append((name, args))\n", encoding="utf-8"
    )
    (tmp_path / "guard_early.py").write_text(
        textwrap.dedent(
            """
            from django.db import transaction
            from guard_outbox import offload

            def early():
                with transaction.atomic():
                    offload("early")  # send: early
            """
        ),
        encoding="utf-8",
    )
    (tmp_path / "guard_late.py").write_text(
        textwrap.dedent(
            """
            from django.db import transaction
            from guard_outbox import offload

            def late():
                with transaction.atomic():
                    offload("late")  # send: late
            """
        ),
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("guard_outbox", "guard_early", "guard_late"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    import guard_early  # imported before the guard starts: holds the original by name

    config = Config(enqueue_functions=frozenset({"guard_outbox.offload"}))
    with Guard(config, root=tmp_path) as guard:
        import guard_late

        guard_early.early()
        guard_late.late()
        found = sorted((Path(f.send.filename).name, f.send.line, f.message) for f in guard.findings)
    assert found == [
        ("guard_early.py", 7, "guard_outbox.offload() " + found[0][2].split(" ", 1)[1]),
        ("guard_late.py", 7, "guard_outbox.offload() " + found[1][2].split(" ", 1)[1]),
    ]
    assert found[0][2].startswith("guard_outbox.offload() enqueued inside transaction.atomic()")
    import guard_outbox

    assert len(guard_outbox.SENT) == 2
    assert guard_early.offload is guard_outbox.offload, "stopping the guard restores every reference"
    assert not hasattr(guard_outbox.offload, "__wrapped__")


def test_stop_restores_everything_and_nothing_is_patched_when_off() -> None:
    from celery.app.task import Task
    from dramatiq import Broker

    before = (
        transaction.Atomic.__enter__,
        transaction.Atomic.__exit__,
        BaseHandler.make_view_atomic,
        Task.apply_async,
        vars(Broker).get("__init_subclass__"),
    )
    meta_path = list(sys.meta_path)
    guard = Guard().start()
    try:
        assert transaction.Atomic.__enter__ is not before[0]
        assert Task.apply_async is not before[3]
        with pytest.raises(GuardError):
            Guard().start()
    finally:
        guard.stop()
    after = (
        transaction.Atomic.__enter__,
        transaction.Atomic.__exit__,
        BaseHandler.make_view_atomic,
        Task.apply_async,
        vars(Broker).get("__init_subclass__"),
    )
    assert after == before
    assert sys.meta_path == meta_path
    assert thread_state.blocks == []
    direct()  # nothing is watching now
    assert guard.findings == []


def test_report_and_json_shape(guard: Guard) -> None:
    guard.context = "tests/test_x.py::test_one"
    direct()
    guard.context = "tests/test_x.py::test_two"
    direct()
    (finding,) = guard.findings
    assert isinstance(finding, RaceFinding)
    assert finding.first_seen_in == "tests/test_x.py::test_one"
    assert finding.tests == ["tests/test_x.py::test_one", "tests/test_x.py::test_two"]
    data = finding.to_json(guard.root)
    assert data["send"] == {"path": "test_guard.py", "line": line_of("send: direct"), "function": "direct"}
    assert data["block"]["line"] == line_of("block: direct")
    assert data["count"] == 2
    text = guard.report()
    assert "seen 2 times, first in tests/test_x.py::test_one" in text
    assert "send stack (most recent call last):" in text
    mark = guard.event_count
    assert guard.findings_since(mark) == []
    direct()
    assert guard.findings_since(mark) == [finding]


# -- the pytest plugin's switches ----------------------------------------------


def test_modes_and_a_path_taken_for_a_value() -> None:
    from flake8_oncommit.runtime.pytest_plugin import parse_mode

    values = ("true", "report", "1", "strict", " Strict ", "false", "off", "")
    modes = ["report", "report", "report", "strict", "strict", "off", "off", "off"]
    assert [parse_mode(value) for value in values] == modes
    with pytest.raises(ValueError, match="write --oncommit-guard=report"):
        parse_mode("tests/test_views.py")


def test_the_plugin_imports_nothing_heavy_when_off() -> None:
    import subprocess

    code = (
        "import sys, flake8_oncommit.runtime.pytest_plugin\n"
        "heavy = sorted(m for m in ('libcst', 'django', 'celery', 'flake8_oncommit.runtime.guard') "
        "if m in sys.modules)\n"
        "print(heavy)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert proc.stdout.strip() == "[]", proc.stdout + proc.stderr
