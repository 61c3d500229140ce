"""Positions: the fast code-generation pass agrees with libcst's public PositionProvider."""

from __future__ import annotations

import libcst as cst
import pytest
from fixture_format import all_fixtures

from flake8_oncommit import positions
from flake8_oncommit.walk import iter_descendants

FIXTURES = [f for f in all_fixtures() if "legacy-syntax" not in f.flags]


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.name for f in FIXTURES])
def test_fast_positions_equal_the_public_provider(fixture) -> None:  # type: ignore[no-untyped-def]
    module = cst.parse_module(fixture.text)
    nodes = [node for node in iter_descendants(module) if isinstance(node, (cst.Call, cst.Name, cst.With))]
    assert positions.FAST, "this libcst supports the fast pass; if not, locate() still answers"
    fast = positions.locate(module, nodes)
    public = positions.locate_public(module, nodes)
    expressions = {id(node) for node in nodes if not isinstance(node, cst.With)}
    assert {key: span for key, span in fast.items() if key in expressions} == {
        key: span for key, span in public.items() if key in expressions
    }
    # A compound statement: the same start (the fast pass ends it after its last newline).
    assert {key: span[:2] for key, span in fast.items()} == {key: span[:2] for key, span in public.items()}


def test_locate_falls_back_to_the_public_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    module = cst.parse_module("x = 1\nwith transaction.atomic():\n    task.delay(x)\n")
    call = next(node for node in iter_descendants(module) if isinstance(node, cst.Call) and node.args)
    monkeypatch.setattr(positions, "FAST", False)
    assert positions.locate(module, [call]) == {id(call): (3, 4, 3, 17)}
