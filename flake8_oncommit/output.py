"""Report formats for ``oncommit-fix``: text, json, github, sarif.

The JSON schema is stable (documented in README "Output formats"): an
object ``{"tool", "version", "mode", "findings": [...]}``, one entry per
finding with ``path``, ``line``, ``column`` (1-based), ``end_line``,
``end_column`` (1-based, exclusive, as in SARIF), ``code``, ``message``,
``fixable``, ``reason`` (why a finding of a fixable rule is not fixable
here, or null) and ``fixed`` (the fix was written, or with ``--diff`` is in
the diff). ``mode`` is ``check``, ``diff`` or ``fix``.

text and github list what is left to do; json and sarif list every finding,
fixed ones marked, so a tool can count both.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from .findings import Finding
from .rules import INFORMATION_URI, PARSE_ERROR_CODE, RULES, UNUSED_NOQA_CODE, rule_url
from .terminal import PLAIN, Style
from .version import __version__

FORMATS = ("text", "json", "github", "sarif")
#: Formats a program reads: stdout carries nothing else (a --diff goes to stderr).
MACHINE_FORMATS = ("json", "sarif")
TOOL_NAME = "flake8-oncommit"
__all__ = ["FORMATS", "INFORMATION_URI", "MACHINE_FORMATS", "Located", "render"]


@dataclass(frozen=True)
class Located:
    """A finding in a file, the unit every format prints."""

    path: str
    finding: Finding
    #: fixed by this run (or, with ``--diff``, fixed in the printed diff)
    fixed: bool = False


def format_line(item: Located, style: Style = PLAIN) -> str:
    """``path:line:col: CODE message``, coloured and linked when ``style`` says so."""
    finding = item.finding
    if not style.colour:
        return finding.format(item.path)
    where = style.paint(item.path, "bold") + style.paint(f":{finding.line}:{finding.column + 1}:", "cyan")
    line = f"{where} {style.code(finding.code)} {finding.message}"
    if finding.reason:
        line += style.paint(f" (not auto-fixable: {finding.reason})", "dim")
    return line


def text(items: Sequence[Located], sources: dict[str, list[str]] | None = None, style: Style = PLAIN) -> str:
    lines = []
    for item in items:
        if item.fixed:
            continue
        lines.append(format_line(item, style))
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
        "fixed": item.fixed,
    }


def json_report(items: Sequence[Located], mode: str = "check") -> str:
    payload = {
        "tool": TOOL_NAME,
        "version": __version__,
        "mode": mode,
        "findings": [as_dict(item) for item in items],
    }
    return json.dumps(payload, indent=2) + "\n"


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(items: Sequence[Located]) -> str:
    """GitHub Actions workflow commands: one ``::error`` annotation per finding."""
    lines = []
    for item in items:
        if item.fixed:
            continue
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
                "helpUri": rule_url(code),
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
    rules.append(
        {
            "id": UNUSED_NOQA_CODE,
            "name": "unused-noqa",
            "shortDescription": {"text": "A # noqa comment names an OC code that nothing there reports."},
            "fullDescription": {
                "text": "Reported with --report-unused-noqa: nothing on that line is reported as that code."
            },
            "help": {"text": "Remove the code from the # noqa comment."},
            "defaultConfiguration": {"level": "warning"},
        }
    )
    return rules


def sarif(items: Sequence[Located], mode: str = "check") -> str:
    """SARIF 2.1.0, as GitHub code scanning and other viewers read it.

    A finding this run fixed on disk is a ``pass`` (level ``none``); one
    only fixed in a ``--diff`` is still an error in the file, with
    ``properties.fixed`` set.
    """
    rules = _sarif_rules()
    index = {rule["id"]: position for position, rule in enumerate(rules)}
    results = []
    for item in items:
        finding = item.finding
        passed = item.fixed and mode == "fix"
        results.append(
            {
                "ruleId": finding.code,
                "ruleIndex": index.get(finding.code, index[PARSE_ERROR_CODE]),
                "kind": "pass" if passed else "fail",
                "level": "none" if passed else "error",
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
                "properties": {"fixable": finding.fixable, "fixed": item.fixed},
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


def render(
    fmt: str,
    items: Sequence[Located],
    sources: dict[str, list[str]] | None = None,
    *,
    mode: str = "check",
    style: Style = PLAIN,
) -> str:
    if fmt == "json":
        return json_report(items, mode)
    if fmt == "github":
        return github(items)
    if fmt == "sarif":
        return sarif(items, mode)
    return text(items, sources, style)
