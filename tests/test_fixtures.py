"""Every fixture, through the engine and through real flake8.

The expectations are the ``# expect:`` comments in each fixture; see
fixture_format.py for the format.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from fixture_format import FIXTURES as FIXTURES_DIR
from fixture_format import Fixture, all_fixtures, with_noqa

from flake8_oncommit import check_source, fix_source
from flake8_oncommit.config import config_from_mapping

FIXTURES = all_fixtures()
FIXTURES_ROOT = FIXTURES_DIR
IDS = [f.name for f in FIXTURES]


def engine_findings(fixture: Fixture) -> list[tuple[int, str, bool]]:
    config = config_from_mapping(fixture.config, fixture.name)
    where = {"filename": str(fixture.path), "project_root": FIXTURES_ROOT}
    findings = check_source(fixture.text, config=config, **where)
    return sorted((f.line, f.code, f.fixable) for f in findings)


@pytest.mark.parametrize("fixture", FIXTURES, ids=IDS)
def test_engine_reports_exactly_the_expectations(fixture: Fixture) -> None:
    expected = sorted((e.line, e.code, e.fixable) for e in fixture.expectations)
    assert engine_findings(fixture) == expected


@pytest.mark.parametrize("fixture", FIXTURES, ids=IDS)
def test_engine_honours_noqa(fixture: Fixture) -> None:
    config = config_from_mapping(fixture.config, fixture.name)
    noqa = with_noqa(fixture)
    assert check_source(noqa, config=config, filename=str(fixture.path), project_root=FIXTURES_ROOT) == []


# --------------------------------------------------------------------------
# The same fixtures through flake8, run as users run it.

_FLAKE8_LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>OC\d{3}) ")


def flake8_options(config: dict[str, str]) -> list[str]:
    return [
        f"--oncommit-{key}={value}"
        for key, value in sorted(config.items())
        if key not in ("select", "ignore")
    ]


def run_flake8(
    root: Path, fixtures: list[Fixture], texts: dict[str, str]
) -> dict[str, list[tuple[int, str]]]:
    """Copy ``texts`` under ``root`` (by fixture name) and run flake8 once per config group.

    Every group's tree holds all the fixtures (a module imports from others,
    whatever their configuration); flake8 checks only the group's own.
    """
    results: dict[str, list[tuple[int, str]]] = {f.name: [] for f in fixtures}
    groups: dict[tuple[str, ...], list[Fixture]] = {}
    for fixture in fixtures:
        groups.setdefault(tuple(flake8_options(fixture.config)), []).append(fixture)
    for index, (options, members) in enumerate(groups.items()):
        group_root = root / f"group{index}"
        for fixture in fixtures:
            target = group_root / fixture.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(texts[fixture.name], encoding="utf-8")
        paths = [fixture.name for fixture in members]
        proc = subprocess.run(
            [sys.executable, "-m", "flake8", "--isolated", "--select=OC", *options, *paths],
            cwd=group_root,
            capture_output=True,
            text=True,
        )
        assert proc.returncode in (0, 1), proc.stderr
        for line in proc.stdout.splitlines():
            match = _FLAKE8_LINE.match(line)
            assert match, f"unexpected flake8 output: {line!r}"
            name = Path(match["path"]).as_posix().removeprefix("./")
            results[name].append((int(match["line"]), match["code"]))
    return {name: sorted(found) for name, found in results.items()}


@pytest.fixture(scope="session")
def flake8_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[int, str]]]:
    root = tmp_path_factory.mktemp("flake8")
    return run_flake8(root, FIXTURES, {f.name: f.text for f in FIXTURES})


@pytest.fixture(scope="session")
def flake8_noqa_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[int, str]]]:
    root = tmp_path_factory.mktemp("flake8-noqa")
    return run_flake8(root, FIXTURES, {f.name: with_noqa(f) for f in FIXTURES})


@pytest.mark.parametrize("fixture", FIXTURES, ids=IDS)
def test_flake8_reports_exactly_the_expectations(
    fixture: Fixture, flake8_results: dict[str, list[tuple[int, str]]]
) -> None:
    if "legacy-syntax" in fixture.flags:
        # flake8 cannot parse pre-3.7 syntax (E999) and runs no plugin on it.
        assert flake8_results[fixture.name] == []
        return
    assert flake8_results[fixture.name] == fixture.expected()


@pytest.mark.parametrize("fixture", FIXTURES, ids=IDS)
def test_flake8_honours_noqa(fixture: Fixture, flake8_noqa_results: dict[str, list[tuple[int, str]]]) -> None:
    assert flake8_noqa_results[fixture.name] == []


def test_there_are_enough_fixtures() -> None:
    assert len(FIXTURES) >= 40


# --------------------------------------------------------------------------
# The fixer against the expected fixed files beside the fixtures.


def fixed_text(fixture: Fixture) -> str:
    config = config_from_mapping(fixture.config, fixture.name)
    return fix_source(fixture.text, config=config, filename=str(fixture.path), project_root=FIXTURES_ROOT)


@pytest.mark.parametrize("fixture", FIXTURES, ids=IDS)
def test_fixer_output_matches_expected_file(fixture: Fixture, request: pytest.FixtureRequest) -> None:
    output = fixed_text(fixture)
    if not fixture.expects_fix:
        assert output == fixture.text
        assert not fixture.fixed_path.exists(), "a fixture without fixable findings needs no .fixed file"
        return
    if request.config.getoption("--generate-fixed"):
        fixture.fixed_path.write_bytes(output.encode("utf-8"))
    assert fixture.fixed_path.exists(), f"missing {fixture.fixed_path.name}; run pytest --generate-fixed"
    assert output == fixture.fixed_path.read_bytes().decode("utf-8")


@pytest.mark.parametrize(
    "fixture", [f for f in FIXTURES if f.expects_fix], ids=[f.name for f in FIXTURES if f.expects_fix]
)
def test_fixer_output_compiles_rechecks_clean_and_is_idempotent(fixture: Fixture) -> None:
    config = config_from_mapping(fixture.config, fixture.name)
    output = fixed_text(fixture)
    compile(output, fixture.name, "exec")
    where = {"filename": str(fixture.path), "project_root": FIXTURES_ROOT}
    remaining = check_source(output, config=config, **where)
    assert all(not finding.fixable for finding in remaining)
    expected_left = sorted(e.code for e in fixture.expectations if not e.fixable)
    assert sorted(f.code for f in remaining) == expected_left
    assert fix_source(output, config=config, **where) == output
