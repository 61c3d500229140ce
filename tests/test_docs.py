"""The rule catalogue is the single source: docs and fixtures must cover every code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from fixture_format import all_fixtures

from flake8_oncommit.config import KEYS
from flake8_oncommit.rules import RULES

ROOT = Path(__file__).resolve().parent.parent


def test_rules_doc_is_generated_from_the_catalogue() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_rules_doc.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("code", list(RULES))
def test_every_code_is_documented(code: str) -> None:
    rule = RULES[code]
    doc = (ROOT / "docs" / "rules.md").read_text()
    assert f"## {code}\n" in doc
    for text in (rule.why, rule.bad, rule.good, rule.fix, rule.summary, rule.message):
        assert text.strip()
    for option in rule.options:
        assert option in KEYS
    readme = (ROOT / "README.md").read_text()
    assert code in readme, f"{code} is missing from README's rule table"


@pytest.mark.parametrize("code", list(RULES))
def test_every_code_has_fixtures_that_report_it(code: str) -> None:
    fixtures = all_fixtures()
    assert any(e.code == code for f in fixtures for e in f.expectations), f"no fixture expects {code}"
    if RULES[code].fixable:
        assert any(e.code == code and e.fixable for f in fixtures for e in f.expectations), (
            f"no fixture shows {code} fixed"
        )


def test_messages_are_one_line_and_say_what_to_do() -> None:
    for rule in RULES.values():
        assert "\n" not in rule.message
        assert re.search(r"(defer|pass|bind|set|fix)", rule.message)


def test_changelog_mentions_the_version() -> None:
    from flake8_oncommit import __version__

    assert f"## {__version__}" in (ROOT / "CHANGELOG.md").read_text()


def test_every_key_and_flag_is_in_the_readme() -> None:
    from flake8_oncommit.cli import build_parser

    readme = (ROOT / "README.md").read_text()
    for key in KEYS:
        assert f"| `{key}` |" in readme, f"{key} is missing from README's configuration table"
    for action in build_parser()._actions:
        for flag in action.option_strings:
            if flag.startswith("--") and flag not in ("--help", "--version"):
                bare = flag.removeprefix("--no-").removeprefix("--")
                assert flag in readme or f"--[no-]{bare}" in readme, f"{flag} is missing from README"


def test_every_subpackage_is_installed() -> None:
    """A package missing from the install is absent from non-editable installs (pre-commit, pip install .)."""
    import sys

    # Python 3.12+ virtualenvs come without setuptools (the smoke test's); the main run has it.
    find_packages = pytest.importorskip("setuptools").find_packages

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    find = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    installed = set(find_packages(where=str(ROOT), include=find["include"]))
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "flake8_oncommit").rglob("__init__.py")
    }
    assert found == installed


#: Where each rule's catalogue examples are checked as if they stood (a view
#: module under ATOMIC_REQUESTS, a settings module, any module).
_EXAMPLE_FILES = {"OC106": "shop/views.py", "OC107": "shop/settings.py"}


@pytest.mark.parametrize("code", list(RULES))
def test_catalogue_examples_run_as_tests(code: str) -> None:
    """Fixit-style: each rule's bad example reports its code, its good example reports nothing."""
    from flake8_oncommit import Config, check_source

    rule = RULES[code]
    effects = {"OC108": "mail", "OC109": "cache", "OC110": "http"}
    if code == "OC106":
        config = Config(atomic_requests="true")
    elif code in effects:
        config = Config(side_effects=frozenset({effects[code]}))
    else:
        config = Config()
    where = _EXAMPLE_FILES.get(code, "shop/services.py")
    bad = [finding.code for finding in check_source(rule.bad, config=config, filename=where)]
    assert code in bad, f"{code}'s bad example reports {bad}"
    good = [finding.code for finding in check_source(rule.good, config=config, filename=where)]
    assert good == [], f"{code}'s good example reports {good}"
