"""Reading the fixtures in tests/fixtures: expectations live in the files.

A fixture is a small Django module. A trailing comment ``# expect: OC101``
says a finding with that code starts on that line (``OC101 unfixable`` when
``oncommit-fix`` must leave a finding of a fixable rule alone; several codes
separated by commas).
A first-line comment ``# oncommit: key = value; key = value`` gives the
configuration (keys as in ``[tool.flake8-oncommit]``). A comment
``# fixture: legacy-syntax`` marks source that only oncommit-fix can read
(flake8 stops at E999 before plugins run). The file name passed to the
engine is the path relative to tests/fixtures, so ``shop/settings.py`` is a
settings module. For fixable fixtures, ``name.py.fixed`` beside the file is
the expected output of ``oncommit-fix``.

A fixture runs with ``atomic-requests = false`` unless its configuration
says otherwise: the tree holds settings modules that turn ATOMIC_REQUESTS on,
which the default (``auto``) would apply to every view fixture.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from flake8_oncommit.rules import RULES

FIXTURES = Path(__file__).parent / "fixtures"

_EXPECT = re.compile(r"#\s*expect:\s*(?P<items>[^#]+)$")
_CONFIG = re.compile(r"^#\s*oncommit:\s*(?P<items>.+)$")
_EXISTING_NOQA = re.compile(r"#\s*noqa(?::[^#]*)?(?=#|$)", re.I)
_FLAGS = re.compile(r"^#\s*fixture:\s*(?P<flags>.+)$")


@dataclass(frozen=True)
class Expectation:
    line: int
    code: str
    fixable: bool


@dataclass
class Fixture:
    path: Path
    name: str  # relative to FIXTURES, with forward slashes
    text: str
    expectations: list[Expectation] = field(default_factory=list)
    config: dict[str, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def fixed_path(self) -> Path:
        return self.path.with_name(self.path.name + ".fixed")

    @property
    def expects_fix(self) -> bool:
        return any(e.fixable for e in self.expectations)

    def expected(self) -> list[tuple[int, str]]:
        return sorted((e.line, e.code) for e in self.expectations)


def load(path: Path) -> Fixture:
    text = path.read_bytes().decode("utf-8")
    fixture = Fixture(path=path, name=path.relative_to(FIXTURES).as_posix(), text=text)
    for number, line in enumerate(text.splitlines(), start=1):
        match = _EXPECT.search(line)
        if match:
            for item in match.group("items").split(","):
                words = item.split()
                if not words:
                    continue
                code = words[0]
                fixable = RULES[code].fixable and "unfixable" not in words[1:]
                fixture.expectations.append(Expectation(number, code, fixable))
        match = _CONFIG.match(line)
        if match:
            for item in match.group("items").split(";"):
                key, _, value = item.partition("=")
                fixture.config[key.strip()] = value.strip()
        match = _FLAGS.match(line)
        if match:
            fixture.flags.update(match.group("flags").split())
    fixture.config.setdefault("atomic-requests", "false")
    return fixture


def all_fixtures() -> list[Fixture]:
    return [load(path) for path in sorted(FIXTURES.rglob("*.py"))]


def with_noqa(fixture: Fixture) -> str:
    """The fixture with every expectation comment turned into ``# noqa: CODE``."""
    lines = fixture.text.splitlines(keepends=True)
    for number in {e.line for e in fixture.expectations}:
        codes = ",".join(e.code for e in fixture.expectations if e.line == number)
        line = _EXISTING_NOQA.sub("", lines[number - 1].rstrip("\r\n"))
        lines[number - 1] = _EXPECT.sub(f"# noqa: {codes}", line) + "\n"
    return "".join(lines)
