"""Flags passed down (:mod:`flake8_oncommit.guards`): what a call passes, and what it reaches."""

from __future__ import annotations

import libcst as cst
import pytest

from flake8_oncommit.guard_reading import conditions, shape_of, signature
from flake8_oncommit.guards import IMPLICIT_SAVE, OPEN, CallShape, Guard, combine, reach

FLAG = Guard("asynchronous", 1, off_by_default=True)


def call(text: str) -> cst.Call:
    found = cst.parse_expression(text)
    assert isinstance(found, cst.Call)
    return found


def function(text: str) -> cst.FunctionDef:
    found = cst.parse_module(text).body[0]
    assert isinstance(found, cst.FunctionDef)
    return found


@pytest.mark.parametrize(
    ("text", "reached"),
    [
        ("sync(obj)", None),
        ("sync(obj, False)", None),
        ("sync(obj, asynchronous=None)", None),
        ("sync(obj, 0)", None),
        ('sync(obj, asynchronous="")', None),
        ("sync(obj, True)", frozenset()),
        ("sync(obj, asynchronous=flag)", frozenset({"flag"})),
        ("sync(obj, other)", frozenset()),
        ("sync(obj, *args)", frozenset()),
        ("sync(obj, **kwargs)", frozenset()),
        ("sync(obj, *args, asynchronous=False)", None),
    ],
)
def test_what_a_call_passes_for_the_flag(text: str, reached: frozenset[str] | None) -> None:
    shape = shape_of(call(text), frozenset({"flag"}))
    assert reach(shape, FLAG) == reached
    assert reach(CallShape.decode(shape.encode()), FLAG) == reached


def test_a_flag_on_by_default_or_no_enqueue() -> None:
    on = Guard("asynchronous", 1, off_by_default=False)
    assert reach(shape_of(call("sync(obj)"), frozenset()), on) == frozenset()
    assert reach(shape_of(call("sync(obj)"), frozenset()), OPEN) == frozenset()
    assert reach(shape_of(call("sync(obj)"), frozenset()), None) is None
    assert reach(IMPLICIT_SAVE, FLAG) is None


def test_through_a_class_name_a_position_counts_only_when_both_readings_agree() -> None:
    """``Service.sync(obj, False)``: the flag is ``obj`` or ``False`` depending on whether ``sync``
    is a plain method taking the instance first; only a value both readings agree on is read."""

    def through_class(text: str) -> frozenset[str] | None:
        return reach(shape_of(call(text), frozenset(), shifted=True), Guard("asynchronous", 0, True))

    assert through_class("Service.sync(obj, False)") == frozenset()
    assert through_class("Service.sync(False, False)") is None
    assert through_class("Service.sync(obj)") == frozenset(), "obj, or the default"
    assert through_class("Service.sync()") is None


def test_combine() -> None:
    assert combine([], ("a",), ()) is None
    assert combine([frozenset({"a"}), frozenset({"a", "b"})], ("b", "a"), ("a",)) == Guard("a", 1, True)
    assert combine([frozenset({"a"}), frozenset({"b"})], ("a", "b"), ()) is OPEN
    assert combine([frozenset({"a"}), frozenset()], ("a",), ()) is OPEN


def test_conditions_and_rebinding() -> None:
    source = (
        "def f(self, a, b=False, *, c=None):\n"
        "    if a and b:\n"
        "        x()\n"
        "    elif c:\n"
        "        y()\n"
        "    if not b:\n"
        "        z()\n"
        "    else:\n"
        "        w()\n"
        "    a = 1\n"
    )
    node = function(source)
    found = signature(node, bound=True)
    assert found.positional == ("a", "b")
    assert found.off_by_default == ("b", "c")
    assert found.flags == {"self", "b", "c"}  # a is rebound
    tested = conditions(node, found.flags)
    names = {
        child.func.value: tested.get(id(child), frozenset())
        for child in _calls(node)
        if isinstance(child.func, cst.Name)
    }
    assert names == {"x": {"b"}, "y": {"c"}, "z": frozenset(), "w": {"b"}}


def _calls(node: cst.CSTNode) -> list[cst.Call]:
    found: list[cst.Call] = []

    class Visitor(cst.CSTVisitor):
        def visit_Call(self, call: cst.Call) -> None:
            found.append(call)

    node.visit(Visitor())
    return found
