from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--generate-fixed",
        action="store_true",
        default=False,
        help="rewrite tests/fixtures/*.py.fixed from the current fixer output",
    )
