"""Every fix, proven by behaviour: the original and the fixed module under real Django.

See oracle.py for what is compared. Each fixture with a fix runs here; so do
the hazards the fixer must refuse or handle (tests/test_fix_hazards.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

if sys.version_info < (3, 11):  # pragma: no cover - positions need 3.11
    pytest.skip("the oracle locates calls by instruction positions (Python 3.11+)", allow_module_level=True)

from fixture_format import FIXTURES, Fixture, all_fixtures
from oracle import Intent, Program, compare

from flake8_oncommit.config import Config, config_from_mapping
from flake8_oncommit.engine import check_text
from flake8_oncommit.findings import BindEagerly, Finding, PassCallable, SetUsing
from flake8_oncommit.fix import fix_text
from flake8_oncommit.index import ProjectIndex


def _byte_column(lines: list[str], line: int, column: int) -> int:
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    return len(text[:column].encode("utf-8"))


def _span(lines: list[str], finding: Finding) -> tuple[int, int, int, int]:
    return (
        finding.line,
        _byte_column(lines, finding.line, finding.column),
        finding.end_line,
        _byte_column(lines, finding.end_line, finding.end_column),
    )


def fix_with_intents(
    text: str, config: Config, *, filename: str = "case.py", root: Path | None = None
) -> tuple[str, list[Intent]]:
    """The fixed text, and the intended behaviour of each fix it made."""
    index = ProjectIndex(root, config, use_cache=False) if root is not None else None
    result = check_text(text, config, filename=filename, index=index)
    outcome = fix_text(text, config, filename=filename, result=result, index=index)
    fixed = set(outcome.fixed)
    lines = result.text.splitlines()
    intents = []
    for finding, raw in result.pairs:
        if finding not in fixed:
            continue
        names: tuple[str, ...] = ()
        if isinstance(raw.fix, BindEagerly):
            names = raw.fix.bound_names
        elif not isinstance(raw.fix, (PassCallable, SetUsing)):
            assert raw.code in ("OC101", "OC106"), raw.code
        intents.append(Intent(finding.code, _span(lines, finding), names))
    return outcome.text, intents


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
