"""The flake8 adapter: hands flake8's lines to the engine, yields its findings.

flake8 parses every file with ``ast`` before plugins run; that tree is not
used here (the engine works on libcst), and files ``ast`` cannot parse never
reach the plugin (flake8 reports E999). ``# noqa`` is left to flake8.

A file that is not UTF-8 and declares no other encoding is one Python
refuses to import; flake8 reads it as latin-1 anyway. The plugin reports it
as ``OC000 cannot read``, as ``oncommit-fix`` does, instead of analysing a
guess.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator, Sequence
from typing import Any

from .config import DEFAULT_CONFIG, Config
from .engine import ParseError, check_text
from .exclusion import excluded_by_user
from .files import FileError, read
from .index import ProjectIndex
from .options import config_from_flake8, project_root_of, register_flake8_options
from .rules import PARSE_ERROR_CODE
from .source import SourceError, decode
from .version import __version__

Flake8Result = tuple[int, int, str, type]


class Plugin:
    """Entry point ``OC = flake8_oncommit.plugin:Plugin``."""

    name = "flake8-oncommit"
    version = __version__
    config: Config = DEFAULT_CONFIG
    #: the project's other modules, for names imported from them
    index: ProjectIndex | None = None

    def __init__(self, tree: ast.AST, lines: Sequence[str], filename: str = "<string>") -> None:
        self.lines = lines
        self.filename = filename

    @classmethod
    def add_options(cls, option_manager: Any) -> None:
        register_flake8_options(option_manager)

    @classmethod
    def parse_options(cls, options: Any) -> None:
        cls.config = config_from_flake8(options)
        cls.index = ProjectIndex(project_root_of(options), cls.config)
        # Before flake8 forks its workers, so they inherit the result.
        cls.index.wrapper_names()

    def run(self) -> Iterator[Flake8Result]:
        text = "".join(self.lines)
        if excluded_by_user(self.filename, self.config):
            return
        unreadable = _unreadable(text, self.filename)
        if unreadable is not None:
            yield 1, 0, f"{PARSE_ERROR_CODE} cannot read: {unreadable}", type(self)
            return
        try:
            result = check_text(
                text,
                self.config.for_path(self.filename),
                filename=self.filename,
                honour_noqa=False,
                index=self.index,
            )
        except ParseError as error:
            message = f"{PARSE_ERROR_CODE} cannot parse: {error.message}"
            yield error.line, error.column, message, type(self)
            return
        except Exception as error:  # flake8 would abort the whole run
            message = f"{PARSE_ERROR_CODE} internal error: {type(error).__name__}: {error} (please report it)"
            yield 1, 0, message, type(self)
            return
        for finding in result.findings:
            yield finding.line, finding.column, f"{finding.code} {finding.message}", type(self)


def _unreadable(text: str, filename: str) -> str | None:
    """Why Python would refuse the file flake8 decoded as latin-1, or None.

    Only text whose every character is in latin-1's range can be that
    fallback (anything decoded as UTF-8 with a wider character was fine), so
    only such files are read again.
    """
    if text.isascii() or max(text) > "\xff" or not os.path.isfile(filename):
        return None
    try:
        decode(read(filename).data)
    except SourceError as error:
        return str(error)
    except FileError:
        return None
    return None
