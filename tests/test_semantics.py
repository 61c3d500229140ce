"""The fix under real Django transactions: deferred tasks run after the commit.

Each case is a small module. It is rewritten by ``fix_source``, executed,
and its functions are called against two in-memory SQLite databases. The
"task" records, when it is sent, whether either connection is still inside
an atomic block. The original module is run too, to show the harness sees
the race the fix removes.
"""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

pytest.importorskip("django")

import django_setup  # noqa: F401  (configures Django)
from django.db import connections, transaction

from flake8_oncommit import check_source, fix_source


class RecordingTask:
    """Stands in for a Celery task: remembers each send and the transaction state."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def _record(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.sent.append(
            {
                "args": args,
                "kwargs": kwargs,
                "default_in_transaction": connections["default"].in_atomic_block,
                "other_in_transaction": connections["other"].in_atomic_block,
            }
        )

    def delay(self, *args: Any, **kwargs: Any) -> None:
        self._record(args, kwargs)

    def apply_async(
        self, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None, **options: Any
    ) -> None:
        self._record(tuple(args), dict(kwargs or {}))


def load(source: str, *, fixed: bool) -> tuple[dict[str, Any], RecordingTask]:
    source = textwrap.dedent(source)
    if fixed:
        new = fix_source(source)
        assert new != source, "the fix changed nothing"
        assert [f for f in check_source(new) if f.fixable] == []
        source = new
    task = RecordingTask()
    namespace: dict[str, Any] = {"__name__": "case"}
    exec(compile(source, "case.py", "exec"), namespace)
    namespace["task"] = task
    return namespace, task


DECORATED = """
from django.db import transaction

@transaction.atomic
def place_order(pk):
    task.delay(pk)
    assert transaction.get_connection().in_atomic_block
"""


def test_original_sends_inside_the_transaction() -> None:
    module, task = load(DECORATED, fixed=False)
    module["place_order"](7)
    assert task.sent == [
        {"args": (7,), "kwargs": {}, "default_in_transaction": True, "other_in_transaction": False}
    ]


def test_fixed_sends_after_commit() -> None:
    module, task = load(DECORATED, fixed=True)
    module["place_order"](7)
    assert task.sent == [
        {"args": (7,), "kwargs": {}, "default_in_transaction": False, "other_in_transaction": False}
    ]


NESTED = """
from django.db import transaction

def outer(log):
    with transaction.atomic():
        with transaction.atomic():
            task.apply_async((1,), {"kind": "inner"}, countdown=3)
        log.append(len(task.sent))
    log.append(len(task.sent))
"""


def test_fixed_waits_for_the_outermost_commit() -> None:
    module, task = load(NESTED, fixed=True)
    log: list[int] = []
    module["outer"](log)
    assert log == [0, 1]
    assert task.sent[0]["args"] == (1,) and task.sent[0]["kwargs"] == {"kind": "inner"}
    assert task.sent[0]["default_in_transaction"] is False


LOOP = """
from django.db import transaction

@transaction.atomic
def fan_out(items):
    for item in items:
        task.delay(item, label=f"item-{item}")
"""


def test_fixed_loop_binds_each_value_at_enqueue_time() -> None:
    module, task = load(LOOP, fixed=True)
    module["fan_out"]([1, 2, 3])
    assert [(s["args"], s["kwargs"]) for s in task.sent] == [
        ((1,), {"label": "item-1"}),
        ((2,), {"label": "item-2"}),
        ((3,), {"label": "item-3"}),
    ]
    assert not any(s["default_in_transaction"] for s in task.sent)


REASSIGNED = """
from django.db import transaction

@transaction.atomic
def send_then_change(value):
    payload = {"v": value}
    task.delay(payload["v"])
    payload["v"] = "changed"
"""


def test_fixed_arguments_are_evaluated_where_the_enqueue_was() -> None:
    module, task = load(REASSIGNED, fixed=True)
    module["send_then_change"]("original")
    assert task.sent[0]["args"] == ("original",)


USING = """
from django.db import transaction

def on_other(log):
    with transaction.atomic(using="other"):
        task.delay("x")
        log.append(len(task.sent))
    log.append(len(task.sent))
"""


def test_fixed_registers_on_the_database_named_by_using() -> None:
    original, original_task = load(USING, fixed=False)
    original["on_other"]([])
    assert original_task.sent[0]["other_in_transaction"] is True

    module, task = load(USING, fixed=True)
    log: list[int] = []
    module["on_other"](log)
    # Registered on "other": not run at once (the default connection has no
    # transaction open), but when "other" commits.
    assert log == [0, 1]
    assert task.sent[0]["other_in_transaction"] is False


ROLLBACK = """
from django.db import transaction

class Boom(Exception):
    pass

@transaction.atomic
def fails(pk):
    task.delay(pk)
    raise Boom()

def inner_rollback():
    with transaction.atomic():
        try:
            with transaction.atomic():
                task.delay("rolled back")
                raise Boom()
        except Boom:
            pass
        task.delay("kept")
"""


def test_fixed_never_sends_after_a_rollback() -> None:
    original, original_task = load(ROLLBACK, fixed=False)
    with pytest.raises(original["Boom"]):
        original["fails"](1)
    assert len(original_task.sent) == 1  # the race: sent although rolled back

    module, task = load(ROLLBACK, fixed=True)
    with pytest.raises(module["Boom"]):
        module["fails"](1)
    assert task.sent == []
    module["inner_rollback"]()
    assert [s["args"] for s in task.sent] == [("kept",)]


def test_no_transaction_left_open() -> None:
    for alias in ("default", "other"):
        assert not connections[alias].in_atomic_block
        assert transaction.get_autocommit(using=alias)


# --------------------------------------------------------------------------
# The on_commit mistakes (OC102, OC103, OC104), fixed.

LATE_BINDING = """
from django.db import transaction

@transaction.atomic
def fan_out(items):
    for item in items:
        transaction.on_commit(lambda: task.delay(item, label=f"item-{item}"))

@transaction.atomic
def fan_out_def(items):
    for item in items:
        def _send():
            task.delay(item)
        transaction.on_commit(_send)
"""


def test_late_binding_original_sends_the_last_value_n_times() -> None:
    module, task = load(LATE_BINDING, fixed=False)
    module["fan_out"]([1, 2, 3])
    assert [s["args"] for s in task.sent] == [(3,), (3,), (3,)]


def test_late_binding_fixed_sends_each_value_once_after_commit() -> None:
    module, task = load(LATE_BINDING, fixed=True)
    module["fan_out"]([1, 2, 3])
    module["fan_out_def"]([4, 5])
    assert [(s["args"], s["kwargs"]) for s in task.sent] == [
        ((1,), {"label": "item-1"}),
        ((2,), {"label": "item-2"}),
        ((3,), {"label": "item-3"}),
        ((4,), {}),
        ((5,), {}),
    ]
    assert not any(s["default_in_transaction"] for s in task.sent)


CALLED = """
from django.db import transaction

@transaction.atomic
def complete(pk, log):
    transaction.on_commit(task.delay(pk))
    log.append(len(task.sent))
"""


def test_called_enqueue_original_sends_now_and_django_rejects_it() -> None:
    module, task = load(CALLED, fixed=False)
    with pytest.raises(TypeError):
        module["complete"](5, [])
    assert task.sent[0]["default_in_transaction"] is True


def test_called_enqueue_fixed_runs_after_commit() -> None:
    module, task = load(CALLED, fixed=True)
    log: list[int] = []
    module["complete"](5, log)
    assert log == [0]
    assert task.sent == [
        {"args": (5,), "kwargs": {}, "default_in_transaction": False, "other_in_transaction": False}
    ]


WRONG_DATABASE = """
from functools import partial
from django.db import transaction

def on_other(log):
    with transaction.atomic(using="other"):
        transaction.on_commit(partial(task.delay, "x"))
        log.append(len(task.sent))
    log.append(len(task.sent))
"""


def test_wrong_database_original_fires_at_once() -> None:
    module, task = load(WRONG_DATABASE, fixed=False)
    log: list[int] = []
    module["on_other"](log)
    assert log == [1, 1]  # ran immediately: "default" had no transaction open
    assert task.sent[0]["other_in_transaction"] is True


def test_wrong_database_fixed_fires_on_the_named_database_commit() -> None:
    module, task = load(WRONG_DATABASE, fixed=True)
    log: list[int] = []
    module["on_other"](log)
    assert log == [0, 1]
    assert task.sent[0]["other_in_transaction"] is False
