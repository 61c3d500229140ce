"""Speed, as ratios of commands measured side by side in one run (these machines are noisy).

    python benchmarks/run.py TREE [--repeat 5]             # a real tree (copied first)
    python benchmarks/run.py --files 1000 --scales 1,2,4   # the generated corpus at 1x, 2x, 4x

Every command is a whole process. The commands of one group run in turns
(A B C A B C ...) and each one's median is kept; what is reported is the
ratio to the group's reference, never an absolute time. The tree is copied
to a temporary directory first (the "touched helper" row edits a file).

Reference: a process that reads and ``ast.parse``\\ s every ``.py`` file of
the tree. Rows (targets from issue 11):

* lexical rules only (``--select OC101,OC102,OC103,OC104,OC107``), ``--no-cache``: <= 0.25
* default rules, ``--no-cache``: <= 0.6
* warm cache, nothing changed: <= 0.05
* warm cache after an edit of the helper module most files import (a line
  appended: its summary is the same): <= 0.15, results equal to a cold run's
* the same, after an edit that changes what the helper's wrapper does: its
  callers are checked again (informative)
* one unchanged file of a warm tree (what pre-commit does), against
  ``python -c "import flake8_oncommit.cli"``: <= 1.3; and the same file
  after a one-line edit (informative)
* flake8 with the plugin against flake8 alone (``-j2``, pycodestyle and
  pyflakes): <= 1.02 (lexical), <= 1.05 (default); cold (no cache) and warm
* peak RSS of any one process of the default cold run: < 150 MB

With the table: the files the pre-check lets through (default rules, with
the project index) and the modules the index parsed (one process, cold).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: Every command with bytecode caching on, as users run them (some CI images turn it off).
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
BIN = Path(sys.executable).parent
LEXICAL = "OC101,OC102,OC103,OC104,OC107"

BASELINE = """
import ast, os, sys
EXCLUDED = {excluded!r}
for root, dirs, files in os.walk(sys.argv[1]):
    dirs[:] = sorted(d for d in dirs if d not in EXCLUDED and not d.endswith(".egg-info"))
    for name in sorted(files):
        if name.endswith(".py"):
            with open(os.path.join(root, name), "rb") as handle:
                data = handle.read()
            try:
                ast.parse(data)
            except (SyntaxError, ValueError):
                pass
"""

#: flake8 itself, with or without this plugin (``--without-oncommit``): the same
#: interpreter and flake8, only the plugin's entry point filtered out.
FLAKE8 = """
import sys
from flake8.plugins import finder
if sys.argv[1] == "--without-oncommit":
    del sys.argv[1]
    found = finder._find_importlib_plugins
    finder._find_importlib_plugins = lambda: (p for p in found() if p.package != "flake8-oncommit")
from flake8.main.cli import main
raise SystemExit(main(sys.argv[1:]))
"""

PEAK_RSS = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
    "stderr=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def run(
    args: Sequence[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, env=env or ENV)


Timing = tuple[float, float]


def timed(args: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> Callable[[], Timing]:
    """A command to time: its wall time and the CPU time (user + system) of its whole process tree."""

    def go() -> Timing:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(
            list(args), cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env or ENV
        )
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    return go


def in_turns(
    commands: dict[str, Callable[[], Timing]], repeat: int, before: Callable[[str], None]
) -> dict[str, Timing]:
    """Each command ``repeat`` times, in turns; the median wall and CPU time of each."""
    times: dict[str, list[Timing]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            before(name)
            times[name].append(command())
    return {
        name: (statistics.median(t[0] for t in values), statistics.median(t[1] for t in values))
        for name, values in times.items()
    }


def copy_tree(source: Path, work: Path) -> Path:
    target = work / "tree"
    shutil.copytree(
        source,
        target,
        symlinks=True,
        ignore=shutil.ignore_patterns(".git", ".oncommit_cache", "node_modules", "__pycache__", ".venv"),
    )
    return target


def counts(tree: Path) -> tuple[int, int, int, int]:
    """Files, files through the pre-check (lexical, default: with the index), modules the index parsed."""
    from flake8_oncommit.config import Config, config_from_mapping
    from flake8_oncommit.files import discover, read
    from flake8_oncommit.precheck import passes_precheck
    from flake8_oncommit.project import open_project
    from flake8_oncommit.source import decode

    results = []
    paths = list(discover([str(tree)]))
    for config in (config_from_mapping({"select": LEXICAL}, "bench"), Config()):
        project, _ = open_project(tree, config)
        passed = 0
        for path in paths:
            try:
                text = decode(read(path).data).text
            except Exception:
                continue
            if passes_precheck(text, project.config, project.index):
                passed += 1
                with contextlib.suppress(Exception):
                    project.check(text, path)
        results.append((passed, project.index.parsed))
    return len(paths), results[0][0], results[1][0], results[1][1]


def helper_and_file(tree: Path) -> tuple[Path, Path]:
    """The helper module most files import, and a file the pre-check lets through."""
    generated = tree / "shop" / "core" / "tracing.py"
    if generated.exists():
        service = next(iter(sorted(tree.glob("shop/app*/services_*.py"))))
        return generated, service
    saleor = tree / "saleor" / "core" / "tracing.py"
    if saleor.exists():
        return saleor, tree / "saleor" / "graphql" / "order" / "mutations" / "order_update.py"
    raise SystemExit("no known helper module in this tree: use saleor or the generated corpus")


Row = tuple[str, str, Timing, Timing]


def measure(tree: Path, work: Path, repeat: int, flake8_repeat: int) -> list[Row]:
    """Rows: (measurement, target, numerator median, denominator median)."""
    from flake8_oncommit.files import EXCLUDED_DIRS

    baseline_script = work / "baseline.py"
    baseline_script.write_text(BASELINE.format(excluded=sorted(EXCLUDED_DIRS)))
    cache = work / "cache"
    fix = str(BIN / "oncommit-fix")
    helper, one_file = helper_and_file(tree)
    relative_file = str(one_file.relative_to(tree))
    rows = []

    run([fix, "--check", "-q", "--cache-dir", str(cache), "."], tree)  # fill the cache
    edits = {"count": 0}

    def before(name: str) -> None:
        if name == "touched":
            edits["count"] += 1
            with open(helper, "a", encoding="utf-8") as handle:
                handle.write(f"# edit {edits['count']}\n")

    reference = [sys.executable, str(baseline_script), "."]
    group = {
        "baseline": timed(reference, tree),
        "lexical": timed([fix, "--check", "--no-cache", "-q", "--select", LEXICAL, "."], tree),
        "default": timed([fix, "--check", "--no-cache", "-q", "."], tree),
        "warm": timed([fix, "--check", "-q", "--cache-dir", str(cache), "."], tree),
        "touched": timed([fix, "--check", "-q", "--cache-dir", str(cache), "."], tree),
    }
    medians = in_turns(group, repeat, before)
    base = medians["baseline"]
    warm_after_edit = run(
        [fix, "--check", "-q", "--format", "json", "--cache-dir", str(cache), "."], tree
    ).stdout
    cold_after_edit = run([fix, "--check", "--no-cache", "-q", "--format", "json", "."], tree).stdout
    same = "yes" if warm_after_edit == cold_after_edit else "NO"
    rows.append(("lexical rules, no cache / ast.parse of every file", "<= 0.25", medians["lexical"], base))
    rows.append(("default rules, no cache / ast.parse of every file", "<= 0.6", medians["default"], base))
    rows.append(("warm cache, nothing changed / ast.parse", "<= 0.05", medians["warm"], base))
    rows.append(
        (
            f"warm cache, helper edited (results = cold: {same}) / ast.parse",
            "<= 0.15",
            medians["touched"],
            base,
        )
    )

    # An edit that changes what the helper does: its dependents are checked again.
    original = helper.read_text(encoding="utf-8")
    edits["count"] = 0

    def change(name: str) -> None:
        if name == "changed":
            edits["count"] += 1
            # The wrapper every service uses stops opening a transaction (and
            # opens it again the next time): what its callers asked changed.
            if edits["count"] % 2:
                helper.write_text(
                    original.replace("transaction.atomic()", "nullcontext()", 1), encoding="utf-8"
                )
            else:
                helper.write_text(original, encoding="utf-8")

    medians = in_turns(
        {
            "baseline": timed(reference, tree),
            "changed": timed([fix, "--check", "-q", "--cache-dir", str(cache), "."], tree),
        },
        repeat,
        change,
    )
    helper.write_text(original, encoding="utf-8")
    rows.append(
        ("warm cache, the helper's wrapper changed / ast.parse", "-", medians["changed"], medians["baseline"])
    )

    # One file, as pre-commit runs it.
    run([fix, "--check", "-q", "--cache-dir", str(cache), "."], tree)
    file_text = one_file.read_text(encoding="utf-8")

    def edit_file(name: str) -> None:
        if name == "edited":
            one_file.write_text(file_text + f"# edit {time.perf_counter()}\n", encoding="utf-8")

    medians = in_turns(
        {
            "import": timed([sys.executable, "-c", "import flake8_oncommit.cli"], tree),
            "one": timed([fix, "--check", "-q", "--cache-dir", str(cache), relative_file], tree),
            "edited": timed([fix, "--check", "-q", "--cache-dir", str(cache), relative_file], tree),
        },
        repeat,
        edit_file,
    )
    one_file.write_text(file_text, encoding="utf-8")
    rows.append(
        ("one unchanged file, warm / import flake8_oncommit.cli", "<= 1.3", medians["one"], medians["import"])
    )
    rows.append(
        ("one edited file, warm / import flake8_oncommit.cli", "-", medians["edited"], medians["import"])
    )

    # flake8, with and without the plugin (flake8 runs every installed plugin
    # whatever --select says; the plugin analyses only the codes flake8 reports).
    if flake8_repeat:
        runner = work / "flake8_runner.py"
        runner.write_text(FLAKE8)
        flake8 = [sys.executable, str(runner)]
        options = ["--isolated", "--jobs=2", "--select=E,W,F"]
        no_cache = {**ENV, "ONCOMMIT_NO_CACHE": "1"}
        for label, env in (("cold", no_cache), ("warm", None)):
            if env is None:
                run([*flake8, *options[:-1], f"--select=E,W,F,{LEXICAL}", "."], tree)
                run([*flake8, *options[:-1], "--select=E,W,F,OC", "."], tree)
            medians = in_turns(
                {
                    "alone": timed([*flake8, "--without-oncommit", *options, "."], tree, env),
                    "lexical": timed([*flake8, *options[:-1], f"--select=E,W,F,{LEXICAL}", "."], tree, env),
                    "default": timed([*flake8, *options[:-1], "--select=E,W,F,OC", "."], tree, env),
                },
                flake8_repeat,
                lambda name: None,
            )
            rows.append(
                (
                    f"flake8 + plugin, lexical, {label} / flake8 alone",
                    "<= 1.02",
                    medians["lexical"],
                    medians["alone"],
                )
            )
            rows.append(
                (
                    f"flake8 + plugin, default, {label} / flake8 alone",
                    "<= 1.05",
                    medians["default"],
                    medians["alone"],
                )
            )

    peak = run([sys.executable, "-c", PEAK_RSS, fix, "--check", "--no-cache", "-q", "."], tree).stdout.strip()
    rows.append(
        ("peak RSS of one process, default cold (MB)", "< 150", (float(peak) / 1024, 0.0), (0.0, 0.0))
    )
    return rows


def report(label: str, rows: list[Row], counted: tuple[int, int, int, int]) -> None:
    files, lexical, default, parsed = counted
    print(
        f"\n{label}: {files} files; the pre-check lets through {lexical} (lexical rules) and {default} "
        f"(default rules, with the project index); the index parsed {parsed} modules (one process, cold)\n"
    )
    print("| measurement | target | ratio (wall) | ratio (CPU) | median wall (s) | reference wall (s) |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for name, target, numerator, denominator in rows:
        if denominator[0]:
            wall = numerator[0] / denominator[0]
            cpu = numerator[1] / denominator[1] if denominator[1] else float("nan")
            print(
                f"| {name} | {target} | {wall:.3f} | {cpu:.3f} | {numerator[0]:.3f} | {denominator[0]:.3f} |"
            )
        else:
            print(f"| {name} | {target} | {numerator[0]:.0f} | | | |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("tree", nargs="?", type=Path)
    parser.add_argument("--files", type=int, default=1000, help="size of the generated corpus at 1x")
    parser.add_argument("--scales", default="1,2,4")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--flake8-repeat", type=int, default=3, help="0: skip flake8")
    args = parser.parse_args()
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, medians of {args.repeat} runs in turns "
        f"(flake8: {args.flake8_repeat})"
    )
    if args.tree is not None:
        with tempfile.TemporaryDirectory(prefix="oncommit-bench-") as temp:
            work = Path(temp)
            tree = copy_tree(args.tree, work)
            rows = measure(tree, work, args.repeat, args.flake8_repeat)
            report(str(args.tree), rows, counts(tree))
        return
    for scale in (int(s) for s in args.scales.split(",")):
        with tempfile.TemporaryDirectory(prefix="oncommit-bench-") as temp:
            work = Path(temp)
            tree = work / "tree"
            subprocess.run(
                [sys.executable, str(HERE / "generate.py"), str(tree), "--files", str(args.files * scale)],
                check=True,
            )
            rows = measure(tree, work, args.repeat, args.flake8_repeat)
            report(f"generated corpus, {scale}x", rows, counts(tree))


if __name__ == "__main__":
    main()
