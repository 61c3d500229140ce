"""oncommit-fix: placeholder until the fixer lands."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    raise SystemExit("oncommit-fix is not available yet")
