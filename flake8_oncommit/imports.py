"""Adding an import the way the file would have written it.

``libcst``'s ``AddImportsVisitor`` turns ``from django.db import transaction
as tx`` into ``from django.db import transaction, transaction as tx`` when
asked for ``transaction``, and always appends new lines at the end of the
import block. Here the fixer first reuses any binding the file has (done by
the caller); what is still missing is merged into an existing ``from X
import ...`` of the same module, or inserted next to the imports it sorts
with, so isort-style files stay close to sorted.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from .names import dotted_name, import_module_name
from .walk import is_docstring

if sys.version_info >= (3, 10):
    _STDLIB = frozenset(sys.stdlib_module_names)
else:  # pragma: no cover - Python 3.9
    _STDLIB = frozenset(
        {
            "functools",
            "os",
            "sys",
            "re",
            "logging",
            "typing",
            "collections",
            "datetime",
            "json",
            "itertools",
            "contextlib",
            "dataclasses",
            "decimal",
            "uuid",
            "time",
            "pathlib",
            "enum",
            "abc",
            "threading",
            "socket",
            "io",
            "math",
        }
    )


@dataclass(frozen=True, order=True)
class NewImport:
    """``from module import name [as alias]`` (``name`` None: ``import module``)."""

    module: str
    name: str | None = None
    alias: str | None = None

    @property
    def bound_name(self) -> str:
        if self.alias:
            return self.alias
        return self.name if self.name else self.module.split(".", 1)[0]

    def statement(self) -> cst.SimpleStatementLine:
        if self.name is None:
            code = f"import {self.module}" + (f" as {self.alias}" if self.alias else "")
        else:
            code = f"from {self.module} import {self.name}" + (f" as {self.alias}" if self.alias else "")
        statement = cst.parse_statement(code)
        assert isinstance(statement, cst.SimpleStatementLine)
        return statement


def _is_stdlib(module: str) -> bool:
    return module.split(".", 1)[0] in _STDLIB


def _statement_imports(statement: cst.CSTNode) -> list[cst.Import | cst.ImportFrom]:
    if isinstance(statement, cst.SimpleStatementLine):
        return [small for small in statement.body if isinstance(small, (cst.Import, cst.ImportFrom))]
    return []


def _module_of(node: cst.Import | cst.ImportFrom) -> str:
    if isinstance(node, cst.ImportFrom):
        return import_module_name(node)
    return dotted_name(node.names[0].name) or ""


def _merge_into(node: cst.ImportFrom, name: str) -> cst.ImportFrom | None:
    """``from m import a, c`` + ``b`` -> ``from m import a, b, c`` (None if not mergeable)."""
    if isinstance(node.names, cst.ImportStar):
        return None
    names = list(node.names)
    multiline = node.lpar is not None and any(
        isinstance(alias.comma, cst.Comma)
        and isinstance(alias.comma.whitespace_after, cst.ParenthesizedWhitespace)
        for alias in names
    )
    if multiline:
        return None  # leave hand-formatted lists alone; a new line is clearer
    plain = [dotted_name(alias.name) or "" for alias in names]
    position = len(names)
    if plain == sorted(plain):
        position = next((i for i, existing in enumerate(plain) if existing > name), len(names))
    new_alias = cst.ImportAlias(name=cst.Name(name))
    if position == len(names):
        last = names[-1]
        comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        trailing = last.comma
        names[-1] = last.with_changes(comma=comma)
        names.append(new_alias.with_changes(comma=trailing))
    else:
        names.insert(
            position, new_alias.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        )
    return node.with_changes(names=names)


def add_imports(module: cst.Module, imports: list[NewImport]) -> cst.Module:
    """Add each import once: merged into a matching ``from`` import, else on its own line."""
    for new in sorted(set(imports)):
        module = _add_one(module, new)
    return module


def _add_one(module: cst.Module, new: NewImport) -> cst.Module:
    body = list(module.body)
    # 1. Merge into ``from <module> import ...`` at the top level.
    if new.name is not None and new.alias is None:
        for index, statement in enumerate(body):
            if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
                continue
            node = statement.body[0]
            if isinstance(node, cst.ImportFrom) and import_module_name(node) == new.module:
                merged = _merge_into(node, new.name)
                if merged is not None:
                    body[index] = statement.with_changes(body=[merged])
                    return module.with_changes(body=body)
    # 2. A new line, placed among the top-level imports.
    line = new.statement()
    import_indexes = [i for i, statement in enumerate(body) if _statement_imports(statement)]
    if not import_indexes:
        return _insert_at_top(module, line)
    position, placement = _position_among(body, import_indexes, new)
    if placement in ("take", "take-and-separate"):
        # Inserted before an import: take over the blank lines/comments above
        # it, so section separators stay where they were.
        anchor = body[position]
        line = line.with_changes(leading_lines=anchor.leading_lines)
        separator = [cst.EmptyLine()] if placement == "take-and-separate" else []
        body[position] = anchor.with_changes(leading_lines=separator)
    elif placement == "blank":
        line = line.with_changes(leading_lines=[cst.EmptyLine()])
    body.insert(position, line)
    return module.with_changes(body=body)


def _sort_key(node: cst.Import | cst.ImportFrom) -> tuple[bool, str]:
    """isort's default order inside a section: ``import x`` lines, then ``from`` lines."""
    return (isinstance(node, cst.ImportFrom), _module_of(node))


def _position_among(
    body: Sequence[cst.BaseStatement], import_indexes: list[int], new: NewImport
) -> tuple[int, str]:
    """Where a new import line goes, and how it sits there.

    The placement is ``"take"`` (before a member of its section: it takes
    over the lines above that member), ``"append"`` (after the last member),
    ``"take-and-separate"`` (a new first section above the block) or
    ``"blank"`` (a new section below others, after a blank line).
    """
    key = (new.name is not None, new.module)
    package = new.module.split(".", 1)[0]
    sections: dict[str, list[int]] = {"future": [], "stdlib": [], "package": [], "other": []}
    for index in import_indexes:
        module = _module_of(_statement_imports(body[index])[0])
        if module == "__future__":
            sections["future"].append(index)
        elif _is_stdlib(module):
            sections["stdlib"].append(index)
        elif not module.startswith("."):
            sections["other"].append(index)
            if module.split(".", 1)[0] == package:
                sections["package"].append(index)
    if _is_stdlib(new.module):
        group = sections["stdlib"]
    elif sections["package"]:
        group = sections["package"]
    else:
        group = sections["other"]
    if group:
        for index in group:
            if _sort_key(_statement_imports(body[index])[0]) > key:
                return index, "take"
        return group[-1] + 1, "append"
    if _is_stdlib(new.module):
        # First stdlib import: above everything but __future__, in a section of its own.
        if sections["future"]:
            return sections["future"][-1] + 1, "blank"
        return import_indexes[0], "take-and-separate"
    # First third-party import after only stdlib/__future__ ones.
    last = max(sections["stdlib"] + sections["future"], default=import_indexes[-1])
    return last + 1, "blank"


def _insert_at_top(module: cst.Module, line: cst.SimpleStatementLine) -> cst.Module:
    """No imports yet: after the docstring, before the code, with PEP 8 spacing."""
    body = list(module.body)
    position = 1 if body and is_docstring(body[0]) else 0
    if position < len(body):
        following = body[position]
        blank = cst.EmptyLine()
        wanted = 2 if isinstance(following, (cst.FunctionDef, cst.ClassDef)) else 1
        leading = list(following.leading_lines)
        blanks = 0
        for empty in leading:
            if empty.comment is None:
                blanks += 1
            else:
                break
        comments_first = leading and leading[0].comment is not None
        if comments_first:
            # A comment above the code belongs to the code: keep it there.
            leading = [blank] * wanted + leading
        else:
            leading = [blank] * max(0, wanted - blanks) + leading
        body[position] = following.with_changes(leading_lines=leading)
    if position == 1:
        line = line.with_changes(leading_lines=[cst.EmptyLine()])
    body.insert(position, line)
    return module.with_changes(body=body)
