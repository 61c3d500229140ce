"""Report formats, checked structurally (JSON schema, SARIF linkage, GitHub escaping)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flake8_oncommit.findings import Finding
from flake8_oncommit.output import Located, github, json_report, sarif, text
from flake8_oncommit.rules import PARSE_ERROR_CODE, RULES, UNUSED_NOQA_CODE

SCRIPT = Path(sys.executable).with_name("oncommit-fix")

BAD = """\
from django.db import transaction

from shop.tasks import send_confirmation


@transaction.atomic
def place_order(order):
    send_confirmation.delay(order.pk)
    result = send_confirmation.delay(order.pk)
    return result
"""

#: The documented JSON schema (README "Output formats").
FINDING_SCHEMA = {
    "path": str,
    "line": int,
    "column": int,
    "end_line": int,
    "end_column": int,
    "code": str,
    "message": str,
    "fixable": bool,
    "reason": (str, type(None)),
    "fixed": bool,
}


def run_check(fmt: str, cwd: Path, *paths: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), "--check", "--format", fmt, *paths], cwd=cwd, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "views.py").write_text(BAD)
    (tmp_path / "shop" / "broken.py").write_text(
        "from django.db import transaction\n@transaction.atomic\ndef f(:\n  x.delay()\n"
    )
    return tmp_path


def test_json_matches_the_documented_schema(project: Path) -> None:
    proc = run_check("json", project, "shop")
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert set(report) == {"tool", "version", "mode", "findings"}
    assert report["mode"] == "check"
    assert report["tool"] == "flake8-oncommit"
    for finding in report["findings"]:
        assert set(finding) == set(FINDING_SCHEMA)
        for key, kind in FINDING_SCHEMA.items():
            assert isinstance(finding[key], kind), key
        assert finding["line"] >= 1 and finding["column"] >= 1
        assert (finding["end_line"], finding["end_column"]) >= (finding["line"], finding["column"])
    summary = [(f["path"], f["line"], f["column"], f["code"], f["fixable"]) for f in report["findings"]]
    assert summary == [
        ("shop/broken.py", 3, 7, PARSE_ERROR_CODE, False),
        ("shop/views.py", 8, 5, "OC101", True),
        ("shop/views.py", 9, 14, "OC101", False),
    ]
    assert report["findings"][2]["reason"] == "its result is used"
    assert report["findings"][1]["end_column"] == len("    send_confirmation.delay(order.pk)") + 1


def test_sarif_required_fields_and_rule_linkage(project: Path) -> None:
    proc = run_check("sarif", project, "shop")
    log = json.loads(proc.stdout)
    assert log["version"] == "2.1.0" and "sarif" in log["$schema"]
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "flake8-oncommit" and driver["version"] == "0.1.0"
    rule_ids = [rule["id"] for rule in driver["rules"]]
    assert set(RULES) | {PARSE_ERROR_CODE, UNUSED_NOQA_CODE} == set(rule_ids)
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["help"]["text"]
    assert len(run["results"]) == 3
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["message"]["text"] and result["level"] == "error"
        (location,) = result["locations"]
        region = location["physicalLocation"]["region"]
        assert {"startLine", "startColumn", "endLine", "endColumn"} <= set(region)
        assert location["physicalLocation"]["artifactLocation"]["uri"].startswith("shop/")


def test_github_annotations(project: Path) -> None:
    proc = run_check("github", project, "shop/views.py")
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(
        "::error file=shop/views.py,line=8,col=5,endLine=8,endColumn=38,title=OC101 (flake8-oncommit)::"
    )
    assert lines[0].endswith("defer it with transaction.on_commit()")


def test_github_escaping_of_percent_colon_comma_and_newlines() -> None:
    finding = Finding(1, 0, "OC101", "100% wrong:\nsecond line\r", 1, 4, True)
    (line,) = github([Located("weird%dir/a:b,c.py", finding)]).splitlines()
    assert "file=weird%25dir/a%3Ab%2Cc.py," in line
    assert line.endswith("::OC101 100% wrong:%0Asecond line%0D".replace("100%", "100%25"))
    assert "\n" not in line and "\r" not in line


def test_text_with_source_and_marks() -> None:
    finding = Finding(2, 4, "OC101", "m", 2, 10, False, "its result is used")
    output = text([Located("a.py", finding)], {"a.py": ["x = 1", "\tr = t.delay()"]})
    assert output.splitlines() == [
        "a.py:2:5: OC101 m (not auto-fixable: its result is used)",
        "    \tr = t.delay()",
        "    \t   ^",
    ]


def test_show_source_flag(project: Path) -> None:
    proc = subprocess.run(
        [str(SCRIPT), "--check", "--show-source", "shop/views.py"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert proc.stdout.splitlines()[1:3] == ["        send_confirmation.delay(order.pk)", "        ^"]


def test_empty_reports_are_valid() -> None:
    assert json.loads(json_report([]))["findings"] == []
    assert json.loads(sarif([]))["runs"][0]["results"] == []
    assert github([]) == "" and text([]) == ""
