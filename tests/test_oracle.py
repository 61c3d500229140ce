"""Every fix, proven by behaviour: the original and the fixed module under real Django.

See oracle.py for what is compared. Each fixture with a fix runs here; so do
the hazards the fixer must refuse or handle (tests/test_fix_hazards.py).
"""

from __future__ import annotations

import sys

import pytest

if sys.version_info < (3, 11):  # pragma: no cover - positions need 3.11
    pytest.skip("the oracle locates calls by instruction positions (Python 3.11+)", allow_module_level=True)

from fixture_format import FIXTURES, Fixture, all_fixtures
from oracle import Program, compare, fix_with_intents

from flake8_oncommit.config import config_from_mapping


def _module_name(name: str) -> str:
    parts = name.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


FIXABLE = [f for f in all_fixtures() if f.expects_fix and "legacy-syntax" not in f.flags]


@pytest.mark.parametrize("fixture", FIXABLE, ids=[f.name for f in FIXABLE])
def test_every_fixed_fixture_behaves_as_intended(fixture: Fixture) -> None:
    config = config_from_mapping(fixture.config, fixture.name)
    fixed, intents = fix_with_intents(fixture.text, config, filename=str(fixture.path), root=FIXTURES)
    assert intents, "the fixture expects a fix"
    program = Program(
        fixture.text, fixture.name, FIXTURES, _module_name(fixture.name), config.atomic_wrappers
    )
    differences = compare(program, fixed, intents)
    assert not differences, "\n\n".join(str(d) for d in differences[:3])
