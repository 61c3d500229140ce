"""Errors every layer may raise, importable without the parser (front ends stay light)."""

from __future__ import annotations


class ParseError(Exception):
    """The text is not Python that libcst can parse."""

    def __init__(self, message: str, line: int = 1, column: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
