"""Report formats for ``oncommit-fix --check``: text, json, github, sarif.

The JSON schema is stable (documented in README "Output formats"): an
object ``{"tool", "version", "findings": [...]}``, one entry per finding with
``path``, ``line``, ``column`` (1-based), ``end_line``, ``end_column``
(1-based, exclusive, as in SARIF), ``code``, ``message``, ``fixable`` and
``reason`` (why a finding of a fixable rule is not fixable here, or null).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from .findings import Finding
from .rules import PARSE_ERROR_CODE, RULES
from .version import __version__

FORMATS = ("text", "json", "github", "sarif")
TOOL_NAME = "flake8-oncommit"
INFORMATION_URI = "https://github.com/flake8-oncommit/flake8-oncommit"


@dataclass(frozen=True)
class Located:
    """A finding in a file, the unit every format prints."""

    path: str
    finding: Finding


def text(items: Sequence[Located], sources: dict[str, list[str]] | None = None) -> str:
    lines = []
    for item in items:
        lines.append(item.finding.format(item.path))
        if sources is not None:
            source = sources.get(item.path)
            if source and 0 < item.finding.line <= len(source):
                code_line = source[item.finding.line - 1].rstrip("\r\n")
                lines.append(f"    {code_line}")
                lines.append("    " + _caret_prefix(code_line, item.finding.column) + "^")
    return "".join(line + "\n" for line in lines)


def _caret_prefix(line: str, column: int) -> str:
    return "".join("\t" if char == "\t" else " " for char in line[:column])


def as_dict(item: Located) -> dict[str, object]:
    finding = item.finding
    return {
        "path": item.path,
        "line": finding.line,
        "column": finding.column + 1,
        "end_line": finding.end_line,
        "end_column": finding.end_column + 1,
        "code": finding.code,
        "message": finding.message,
        "fixable": finding.fixable,
        "reason": finding.reason,
    }


def json_report(items: Sequence[Located]) -> str:
    payload = {"tool": TOOL_NAME, "version": __version__, "findings": [as_dict(item) for item in items]}
    return json.dumps(payload, indent=2) + "\n"


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(items: Sequence[Located]) -> str:
    """GitHub Actions workflow commands: one ``::error`` annotation per finding."""
    lines = []
    for item in items:
        finding = item.finding
        properties = ",".join(
            f"{key}={_escape_property(str(value))}"
            for key, value in (
                ("file", item.path),
                ("line", finding.line),
                ("col", finding.column + 1),
                ("endLine", finding.end_line),
                ("endColumn", finding.end_column + 1),
                ("title", f"{finding.code} ({TOOL_NAME})"),
            )
        )
        lines.append(f"::error {properties}::{_escape_data(f'{finding.code} {finding.message}')}")
    return "".join(line + "\n" for line in lines)


def _sarif_rules() -> list[dict[str, object]]:
    rules: list[dict[str, object]] = []
    for code, rule in RULES.items():
        help_text = f"{rule.why}\n\nFix: {rule.fix}"
        rules.append(
            {
                "id": code,
                "name": rule.name,
                "shortDescription": {"text": rule.summary},
                "fullDescription": {"text": rule.why},
                "help": {
                    "text": help_text,
                    "markdown": (
                        f"{rule.why}\n\nBad:\n\n```python\n{rule.bad}```\n\n"
                        f"Good:\n\n```python\n{rule.good}```\n\n**Fix:** {rule.fix}"
                    ),
                },
                "helpUri": f"{INFORMATION_URI}/blob/main/docs/rules.md#{code.lower()}",
                "defaultConfiguration": {"level": "error"},
                "properties": {"fixable": rule.fixable},
            }
        )
    rules.append(
        {
            "id": PARSE_ERROR_CODE,
            "name": "cannot-parse",
            "shortDescription": {"text": "The file could not be read or parsed."},
            "fullDescription": {"text": "The file could not be read or parsed, so it was not checked."},
            "help": {"text": "Fix the syntax or encoding error; the file is skipped until then."},
            "defaultConfiguration": {"level": "error"},
        }
    )
    return rules


def sarif(items: Sequence[Located]) -> str:
    """SARIF 2.1.0, as GitHub code scanning and other viewers read it."""
    rules = _sarif_rules()
    index = {rule["id"]: position for position, rule in enumerate(rules)}
    results = []
    for item in items:
        finding = item.finding
        results.append(
            {
                "ruleId": finding.code,
                "ruleIndex": index[finding.code],
                "level": "error",
                "message": {"text": finding.message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {
                                "uri": item.path.replace("\\", "/"),
                                "uriBaseId": "%SRCROOT%",
                            },
                            "region": {
                                "startLine": finding.line,
                                "startColumn": finding.column + 1,
                                "endLine": finding.end_line,
                                "endColumn": finding.end_column + 1,
                            },
                        }
                    }
                ],
                "properties": {"fixable": finding.fixable},
            }
        )
    payload = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(payload, indent=2) + "\n"


def render(fmt: str, items: Sequence[Located], sources: dict[str, list[str]] | None = None) -> str:
    if fmt == "json":
        return json_report(items)
    if fmt == "github":
        return github(items)
    if fmt == "sarif":
        return sarif(items)
    return text(items, sources)
