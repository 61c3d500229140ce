"""The flake8 adapter: hands flake8's lines to the engine, yields its findings.

flake8 parses every file with ``ast`` before plugins run; that tree is not
used here (the engine works on libcst), and files ``ast`` cannot parse never
reach the plugin (flake8 reports E999). ``# noqa`` is left to flake8.

A file that is not UTF-8 and declares no other encoding is one Python
refuses to import; flake8 reads it as latin-1 anyway. The plugin reports it
as ``OC000 cannot read``, as ``oncommit-fix`` does, instead of analysing a
guess.

The project is opened once per flake8 run, in :meth:`Plugin.parse_options`
(before flake8 forks its workers): the scan of its files, its settings and
its wrapper names come from the cache when nothing changed. Each worker
keeps its own index, and the workers share what they learn through the
cache on disk (module summaries and each file's findings), so a helper
module is parsed once per run, and not at all when it is unchanged.
Importing this module does not import the parser: a file the pre-check
lets through is the first to need it.
"""

from __future__ import annotations

import ast
import dataclasses
import os
from collections.abc import Iterator, Sequence
from typing import Any

from .cache import cache_directory
from .config import DEFAULT_CONFIG, Config
from .errors import ParseError
from .exclusion import excluded_by_user
from .files import FileError, read
from .options import config_from_flake8, project_root_of, register_flake8_options
from .project import Project, open_project
from .rules import PARSE_ERROR_CODE, RULES
from .source import SourceError, decode
from .version import __version__

Flake8Result = tuple[int, int, str, type]


class Plugin:
    """Entry point ``OC = flake8_oncommit.plugin:Plugin``."""

    name = "flake8-oncommit"
    version = __version__
    config: Config = DEFAULT_CONFIG
    #: the project the checked files belong to, for this flake8 run
    project: Project | None = None

    def __init__(self, tree: ast.AST, lines: Sequence[str], filename: str = "<string>") -> None:
        self.lines = lines
        self.filename = filename

    @classmethod
    def add_options(cls, option_manager: Any) -> None:
        register_flake8_options(option_manager)

    @classmethod
    def parse_options(cls, options: Any) -> None:
        config = _reported_by_flake8(options, config_from_flake8(options, settings=False))
        root = project_root_of(options)
        cls.project, _ = open_project(root, config, cache_dir=cache_directory(root, config=config))
        cls.config = cls.project.config
        # Before flake8 forks its workers, so they inherit them (cached when unchanged).
        cls.project.index.wrapper_names()

    def run(self) -> Iterator[Flake8Result]:
        if not self.config.select:
            return  # flake8 reports none of this plugin's codes
        text = "".join(self.lines)
        if excluded_by_user(self.filename, self.config):
            return
        unreadable = _unreadable(text, self.filename)
        if unreadable is not None:
            yield 1, 0, f"{PARSE_ERROR_CODE} cannot read: {unreadable}", type(self)
            return
        try:
            config = self.config.for_path(self.filename)
            if self.project is not None:
                findings = self.project.findings(text, self.filename, honour_noqa=False, config=config)
            else:
                from .engine import check_text

                findings = check_text(text, config, filename=self.filename, honour_noqa=False).findings
        except ParseError as error:
            message = f"{PARSE_ERROR_CODE} cannot parse: {error.message}"
            yield error.line, error.column, message, type(self)
            return
        except Exception as error:  # flake8 would abort the whole run
            message = f"{PARSE_ERROR_CODE} internal error: {type(error).__name__}: {error} (please report it)"
            yield 1, 0, message, type(self)
            return
        for finding in findings:
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


def _reported_by_flake8(options: Any, config: Config) -> Config:
    """Only the rules whose codes flake8 will report are analysed.

    flake8 runs every installed plugin whatever ``--select`` says and drops
    the codes it does not report; OC105's helper chains or OC106's views
    are work for nothing then. flake8's own decision engine says which codes
    it reports (``select``, ``extend-select``, ``ignore``...).
    """
    try:
        from flake8.style_guide import Decision, DecisionEngine

        engine = DecisionEngine(options)
        reported = frozenset(
            code
            for code in RULES
            if code != PARSE_ERROR_CODE
            and config.selects(code)
            and engine.decision_for(code) is Decision.Selected
        )
    except Exception:  # flake8's internals moved: analyse everything, flake8 still filters
        return config
    # The configuration's own selection (pyproject, per flake8's --select) is already in ``reported``.
    return dataclasses.replace(config, select=reported, ignore=frozenset())
