"""The pieces of issue 12 in-process: noqa writing, exclusion patterns, selection, reports.

The same behaviour is tested through the console script, flake8 and
pre-commit in test_daily.py and test_hooks.py; these small cases read like
the spec of each piece and run in milliseconds.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from flake8_oncommit.add_noqa import add_noqa, unused_noqa
from flake8_oncommit.config import Config, ConfigError, config_from_mapping
from flake8_oncommit.engine import check_text
from flake8_oncommit.exclusion import Selection, excluded_by_user
from flake8_oncommit.explain import explain
from flake8_oncommit.files import discover
from flake8_oncommit.findings import Finding
from flake8_oncommit.noqa import NoqaFilter
from flake8_oncommit.output import Located, json_report, sarif, text
from flake8_oncommit.patterns import matches_file
from flake8_oncommit.rules import RULES
from flake8_oncommit.summary import RunSummary
from flake8_oncommit.terminal import Style, colour_enabled


def finding(line: int, code: str = "OC101") -> Finding:
    return Finding(line, 4, code, "m", line, 9, True)


# --------------------------------------------------------------------------
# add_noqa


@pytest.mark.parametrize(
    ("before", "line", "after"),
    [
        ("x = t.delay()\n", 1, "x = t.delay()  # noqa: OC101\n"),
        ("x = t.delay()   \n", 1, "x = t.delay()  # noqa: OC101\n"),
        ("x = t.delay()  # why\n", 1, "x = t.delay()  # why  # noqa: OC101\n"),
        ("x = t.delay()  # noqa: E501\n", 1, "x = t.delay()  # noqa: E501, OC101\n"),
        ("x = t.delay()  # noqa:E501,W291\n", 1, "x = t.delay()  # noqa:E501,W291, OC101\n"),
        ("x = t.delay()\r\n", 1, "x = t.delay()  # noqa: OC101\r\n"),
        ("x = t.delay()", 1, "x = t.delay()  # noqa: OC101"),
        # Inside brackets, each physical line is its own noqa line for flake8.
        ("x = t.delay(\n    1,\n)\n", 1, "x = t.delay(  # noqa: OC101\n    1,\n)\n"),
        # A triple-quoted string or a backslash joins lines: the comment goes after them.
        ('x = t.delay("""a\nb""")\n', 1, 'x = t.delay("""a\nb""")  # noqa: OC101\n'),
        ("x = t.delay(1) \\\n    + 2\n", 1, "x = t.delay(1) \\\n    + 2  # noqa: OC101\n"),
        # A string that looks like a comment is not one.
        ('x = t.delay("# noqa")\n', 1, 'x = t.delay("# noqa")  # noqa: OC101\n'),
    ],
)
def test_add_noqa_places_the_comment_where_flake8_reads_it(before: str, line: int, after: str) -> None:
    marked, count = add_noqa(before, [finding(line)])
    assert (marked, count) == (after, 1)
    assert not NoqaFilter(marked).suppresses("OC102", line) or "# noqa: E" not in marked
    assert NoqaFilter(marked).suppresses("OC101", line)
    assert add_noqa(marked, []) == (marked, 0)


def test_add_noqa_merges_codes_of_one_line_and_adds_nothing_twice() -> None:
    marked, count = add_noqa("a = t.delay(on_commit(u.delay()))\n", [finding(1), finding(1, "OC102")])
    assert (marked, count) == ("a = t.delay(on_commit(u.delay()))  # noqa: OC101, OC102\n", 1)
    assert add_noqa(marked, [finding(1)]) == (marked, 0)
    assert add_noqa("x = 1  # noqa\n", [finding(1)]) == ("x = 1  # noqa\n", 0)


def test_add_noqa_leaves_untokenizable_text_and_parse_errors_alone() -> None:
    assert add_noqa("x = (\n", [finding(1)]) == ("x = (\n", 0)
    assert add_noqa("x = 1\n", [finding(1, "OC000")]) == ("x = 1\n", 0)


def test_add_noqa_result_rechecks_clean() -> None:
    source = (
        "from django.db import transaction\n\n\n@transaction.atomic\ndef f(t):\n"
        "    r = t.delay(\n        1,\n    )\n    s = t.delay('''x\ny''')\n    return r, s\n"
    )
    found = check_text(source).findings
    assert [f.code for f in found] == ["OC101", "OC101"]
    marked, count = add_noqa(source, found)
    assert count == 2
    assert check_text(marked).findings == []


def test_unused_noqa_reports_stale_oc_codes_only() -> None:
    text_ = "a()  # noqa: OC101, E501\nb()  # noqa: OC105\nc()  # noqa\nd()  # noqa: OC1\n"
    found = unused_noqa(text_, [finding(2, "OC105")], lambda code: True)
    assert [(f.line, f.column, f.code, f.message) for f in found] == [
        (1, 5, "OC100", "unused noqa: nothing here is reported as OC101 - remove it"),
        (4, 5, "OC100", "unused noqa: nothing here is reported as OC1 - remove it"),
    ]
    assert unused_noqa(text_, [finding(2, "OC105")], lambda code: code != "OC101") == found[1:]


# --------------------------------------------------------------------------
# Configuration: patterns, per-file-ignores, selection


def test_patterns_with_a_slash_are_anchored_where_read(tmp_path: Path) -> None:
    config = config_from_mapping(
        {"extend-exclude": ["migrations", "shop/legacy/", "./x/*.py"]}, "test", directory=tmp_path
    )
    assert config.extend_exclude == (
        "migrations",
        str(tmp_path / "shop" / "legacy"),
        str(tmp_path / "x/*.py"),
    )


def test_per_file_ignores_accepts_a_table_or_flake8_strings(tmp_path: Path) -> None:
    table = config_from_mapping({"per-file-ignores": {"a/*.py": ["OC101", "OC105"]}}, "t", directory=tmp_path)
    flat = config_from_mapping({"per-file-ignores": "a/*.py:OC101,OC105"}, "t", directory=tmp_path)
    spaced = config_from_mapping({"per-file-ignores": ["a/*.py: OC101 OC105"]}, "t", directory=tmp_path)
    expected = ((str(tmp_path / "a/*.py"), ("OC101", "OC105")),)
    assert table.per_file_ignores == flat.per_file_ignores == spaced.per_file_ignores == expected
    with pytest.raises(ConfigError, match="unknown code 'E501'"):
        config_from_mapping({"per-file-ignores": {"a.py": ["E501"]}}, "t")
    with pytest.raises(ConfigError, match="has no 'pattern:' before it"):
        config_from_mapping({"per-file-ignores": "OC101"}, "t")


def test_for_path_applies_the_matching_ignores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = config_from_mapping(
        {"per-file-ignores": {"shop/legacy/*.py": ["OC1"], "__init__.py": ["OC105"], "tests": ["OC101"]}}, "t"
    )
    assert not config.for_path("shop/legacy/old.py").selects("OC101")
    assert config.for_path("shop/views.py").selects("OC101")
    assert not config.for_path("shop/__init__.py").selects("OC105")
    assert not config.for_path("shop/tests/test_x.py").selects("OC101")
    assert config.for_path("<string>") is config


def test_selection_by_specificity() -> None:
    assert not Config(ignore=frozenset({"OC1"})).selects("OC105")
    assert Config(select=frozenset({"OC105"}), ignore=frozenset({"OC1"})).selects("OC105")
    assert not Config(select=frozenset({"OC105"}), ignore=frozenset({"OC105"})).selects("OC105")
    assert not Config(select=frozenset({"OC102"})).selects("OC101")


def test_matches_file_names_and_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert matches_file("shop/migrations/0001.py", "migrations")
    assert matches_file("shop/a_pb2.py", "*_pb2.py")
    assert matches_file("shop/legacy/deep/x.py", str(tmp_path / "shop/legacy"))
    assert not matches_file("shop/legacy_x.py", str(tmp_path / "shop/legacy"))
    # Names above the current directory never match.
    assert not matches_file(str(tmp_path / "a.py"), os.path.basename(str(tmp_path)))


def _layout(root: Path) -> None:
    for name in ("a.py", "build/b.py", "app/build/__init__.py", "env/c.py", "node_modules/d.py", "x_pb2.py"):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
    (root / "env" / "pyvenv.cfg").write_text("")


def test_selection_defaults_exclude_replaces_extend_adds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _layout(tmp_path)

    def walked(**settings: object) -> list[str]:
        config = config_from_mapping(settings, "t")
        return sorted(discover(["."], Selection(config)))

    assert walked() == ["./a.py", "./app/build/__init__.py", "./x_pb2.py"]
    assert walked(**{"extend-exclude": ["*_pb2.py"]}) == ["./a.py", "./app/build/__init__.py"]
    # exclude replaces the defaults (a virtualenv is still never walked).
    assert walked(exclude=["build"]) == ["./a.py", "./node_modules/d.py", "./x_pb2.py"]


def test_force_exclude_and_explicit_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _layout(tmp_path)
    named = ["node_modules/d.py", "a.py"]
    assert list(discover(named, Selection(Config()))) == named
    assert list(discover(named, Selection(Config(force_exclude=True)))) == ["a.py"]


def test_excluded_by_user_only_sees_configured_patterns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert not excluded_by_user("node_modules/x.py", Config())
    assert excluded_by_user("shop/migrations/0001.py", Config(extend_exclude=("migrations",)))


def test_gitignore_without_a_work_tree_ignores_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".gitignore").write_text("*.py\n")  # not a repository: does not apply
    (tmp_path / "a.py").write_text("")
    assert list(discover(["."], Selection(Config()))) == ["./a.py"]


# --------------------------------------------------------------------------
# Reports


def test_json_and_sarif_mark_fixed_findings_and_text_lists_what_is_left() -> None:
    items = [Located("a.py", finding(3), fixed=True), Located("a.py", finding(7))]
    payload = json.loads(json_report(items, "fix"))
    assert payload["mode"] == "fix"
    assert [f["fixed"] for f in payload["findings"]] == [True, False]
    results = json.loads(sarif(items, "fix"))["runs"][0]["results"]
    assert [(r["kind"], r["level"]) for r in results] == [("pass", "none"), ("fail", "error")]
    diff_results = json.loads(sarif(items, "diff"))["runs"][0]["results"]
    assert [(r["kind"], r["properties"]["fixed"]) for r in diff_results] == [("fail", True), ("fail", False)]
    assert text(items).splitlines() == ["a.py:7:5: OC101 m"]


def test_summary_counts_by_code_and_apart_from_unreadable_files() -> None:
    summary = RunSummary("fix", files=10)
    unreadable = Finding(1, 0, "OC000", "cannot read: binary", 1, 0, False)
    unparsable = Finding(2, 0, "OC000", "cannot parse: SyntaxError", 2, 0, False)
    summary.add([Located("a.py", finding(3), fixed=True), Located("a.py", finding(5, "OC105"))])
    summary.add([Located("b.py", unreadable), Located("c.py", unparsable)])
    summary.changed.append(("a.py", 1, 0))
    assert summary.line() == (
        "1 fixed in 1 file; 1 left to fix by hand (OC105 x1); 1 file could not be parsed; "
        "1 file could not be read; 10 files checked"
    )
    assert summary.changed_lines() == ["fixed a.py (1)"]
    assert summary.statistics() == [
        "1     OC101 enqueue-in-atomic (1 fixed)",
        "1     OC105 enqueue-through-helper",
        "2     OC000 cannot-read-or-parse",
    ]
    assert RunSummary("check", files=3).line(batch=True) is None
    assert RunSummary("check", files=3).line() == "3 files checked, nothing found"


def test_colour_follows_no_color_and_force_color(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty:
        def isatty(self) -> bool:
            return True

    tty = Tty()
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    assert colour_enabled(tty)  # type: ignore[arg-type]
    monkeypatch.setenv("NO_COLOR", "1")
    assert not colour_enabled(tty)  # type: ignore[arg-type]
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert not colour_enabled(tty)  # type: ignore[arg-type]  # NO_COLOR wins, as in Python 3.13
    assert colour_enabled(tty, "always")  # type: ignore[arg-type]
    monkeypatch.delenv("NO_COLOR")
    assert Style(colour=True, links=True).code("OC101").startswith("\x1b]8;;https://")
    assert Style(colour=True, links=False).code("OC101") == "\x1b[1;31mOC101\x1b[0m"
    assert Style().code("OC101") == "OC101"


@pytest.mark.parametrize("code", [*RULES, "OC000", "OC100"])
def test_every_code_can_be_explained(code: str) -> None:
    explained = explain(code.lower())
    assert explained is not None and explained.startswith(f"## {code}\n")
    assert explain("OC999") is None


def test_a_selection_matches_path_and_name_patterns(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Both kinds of pattern, compiled together: a path glob (made absolute when read) and a name glob."""
    import dataclasses

    out = tmp_path / "shop" / "out"
    out.mkdir(parents=True)
    config = dataclasses.replace(Config(), extend_exclude=(str(out), "*_pb2.py"))
    selection = Selection(config)
    assert selection.skips_dir(str(out), "out")
    assert not selection.skips_dir(str(tmp_path / "shop"), "shop")
    assert selection.skips_file(str(tmp_path / "a_pb2.py"), "a_pb2.py")
    assert selection.skips_dir(str(tmp_path / ".git"), ".git")  # the defaults stay
