"""Speed, as ratios measured side by side in one run (these machines are noisy).

    python benchmarks/run.py [TREE] [--repeat 3]

Without TREE, a corpus is generated (benchmarks/generate.py). Each pair of
commands runs alternately (A B A B ...) and the best time of each is kept;
what is reported is their ratio, never an absolute target:

* flake8 with the plugin / flake8 without it (same pycodestyle+pyflakes work):
  what the plugin adds to a CI lint run;
* oncommit-fix --check / a bare ``ast.parse`` of every file: the standalone
  checker (one job, ``--no-cache``: a cold CI run) against the cheapest
  possible whole-tree pass in Python;
* engine / libcst parse, on the files the pre-check lets through: what the
  analysis costs on top of the parse it cannot avoid;
* libcst parse / ast.parse on those files, for scale.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def best_of_alternating(a: Callable[[], object], b: Callable[[], object], repeat: int) -> tuple[float, float]:
    times_a, times_b = [], []
    for _ in range(repeat):
        for fn, times in ((a, times_a), (b, times_b)):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return min(times_a), min(times_b)


def command(*args: str, cwd: Path) -> Callable[[], object]:
    def run() -> object:
        return subprocess.run(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    return run


def python_files(tree: Path) -> list[Path]:
    from flake8_oncommit.files import discover

    return [Path(p) for p in discover([str(tree)])]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("tree", nargs="?", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--files", type=int, default=2000)
    args = parser.parse_args()

    tree = args.tree
    if tree is None:
        tree = Path(tempfile.mkdtemp(prefix="oncommit-bench-")) / "corpus"
        subprocess.run(
            [sys.executable, str(HERE / "generate.py"), str(tree), "--files", str(args.files)], check=True
        )

    import ast

    import libcst as cst

    from flake8_oncommit.config import Config
    from flake8_oncommit.engine import ParseError, check_text
    from flake8_oncommit.engine import passes_precheck as could_have_findings

    files = python_files(tree)
    texts = []
    for path in files:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            texts.append(path.read_text(encoding="utf-8"))
    config = Config()
    candidates = [text for text in texts if could_have_findings(text, config)]

    def parse_ast_all() -> None:
        for text in texts:
            with contextlib.suppress(SyntaxError):
                ast.parse(text)

    def parse_libcst() -> None:
        for text in candidates:
            with contextlib.suppress(Exception):
                cst.parse_module(text)

    def engine() -> None:
        for text in candidates:
            with contextlib.suppress(ParseError):
                check_text(text, config)

    def parse_ast_candidates() -> None:
        for text in candidates:
            with contextlib.suppress(SyntaxError):
                ast.parse(text)

    jobs = str(min(2, os.cpu_count() or 1))
    rows = []
    base, plugin = best_of_alternating(
        command(
            sys.executable, "-m", "flake8", "--isolated", f"--jobs={jobs}", "--select=E,W,F", ".", cwd=tree
        ),
        command(
            sys.executable, "-m", "flake8", "--isolated", f"--jobs={jobs}", "--select=E,W,F,OC", ".", cwd=tree
        ),
        args.repeat,
    )
    rows.append(("flake8 + plugin / flake8 alone", plugin, base))
    bare, checker = best_of_alternating(
        parse_ast_all,
        command(str(BIN / "oncommit-fix"), "--check", "--no-cache", "--jobs=1", "-q", ".", cwd=tree),
        args.repeat,
    )
    rows.append(("oncommit-fix --check (1 job, cold) / ast.parse of every file", checker, bare))
    parse, full = best_of_alternating(parse_libcst, engine, args.repeat)
    rows.append(("engine / libcst parse (pre-checked files)", full, parse))
    astc, parse2 = best_of_alternating(parse_ast_candidates, parse_libcst, args.repeat)
    rows.append(("libcst parse / ast.parse (pre-checked files)", parse2, astc))

    print(f"tree: {tree} ({len(files)} files, {len(candidates)} pass the pre-check)")
    print(f"python {sys.version.split()[0]}, best of {args.repeat}, alternating\n")
    print("| measurement | ratio | numerator (s) | denominator (s) |")
    print("| --- | ---: | ---: | ---: |")
    for name, numerator, denominator in rows:
        print(f"| {name} | {numerator / denominator:.2f} | {numerator:.2f} | {denominator:.2f} |")


if __name__ == "__main__":
    main()
