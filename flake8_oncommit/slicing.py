"""A cheaper text to analyse: the bodies of functions that cannot matter, blanked out.

A file that passes the pre-check mentions a transaction somewhere, but most
of its functions do not: in a 200 KB test module a handful of tests use
``on_commit``. Parsing with libcst costs about ten times ``ast.parse``, so
the engine first reads the module's outline with ``ast`` and hands libcst
a copy in which every function that cannot take part in a finding has its
body replaced by ``...`` and blank lines. Lines and columns of what is
kept do not move, so positions stay those of the original.

A function is kept when its text mentions a transaction (``atomic``,
``on_commit``, ``ATOMIC_REQUESTS``, a configured or project wrapper or
deferrer), rebinds module names (``global``), or is an ``__init__`` (what
the instance's attributes are). When a rule follows calls (OC105, the
side-effect rules), a function is also kept when a kept one mentions its
name (what a block calls, and what that calls, by name), when it is a
signal receiver or connects one (``AppConfig.ready()``), and when Django
runs it without its name being written (``save()`` from
``Model.objects.create()``, a serializer's ``create()``). Module-level
statements, class statements, decorators and signatures are always kept:
every name is still bound to what it is.

The slice only ever decides that a file has no finding. When it has one,
the engine analyses the whole text again (:func:`.engine.analyse_text`), so
messages, chains and fixes are those of the full module; a finding the
slice would miss is the one risk, and ``tests/test_slicing.py`` compares
both on every fixture.
"""

from __future__ import annotations

import ast
import io
import re
from collections.abc import Iterable

from .config import Config
from .precheck import context_words

#: Rules that follow calls out of a block into the module's other functions.
_FOLLOWING_RULES = ("OC105", "OC108", "OC109", "OC110")
#: Methods Django runs without the caller naming them: ``Order.objects.create()`` runs
#: ``save()``, ``serializer.save()`` runs ``create()``/``update()``, a view asks
#: ``get_form_class()``. Kept whenever calls are followed.
_RUN_UNNAMED = frozenset(
    {"save", "delete", "create", "update", "get_form_class", "get_serializer_class", "ready"}
)
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def sliced(text: str, config: Config, wrappers: Iterable[str] = ()) -> str | None:
    """``text`` with the bodies of functions that cannot matter blanked; None when nothing
    would be blanked or the outline cannot be read (the caller analyses ``text`` itself)."""
    if config.atomic_requests != "false" and config.enables("OC106"):
        return None  # any view runs in the request's transaction: its words say nothing
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # newer syntax than this interpreter's, legacy ``async``: libcst decides
    lines = _lines(text)
    words = tuple(dict.fromkeys(context_words(config, tuple(wrappers))))
    words = _with_local_wrappers(tree.body, lines, words)
    follow = any(config.enables(code) for code in _FOLLOWING_RULES)
    found = list(_functions(tree.body, _whole_classes(tree.body, lines, words)))
    if not found:
        return None
    functions = [function for function, _ in found]
    kept: list[bool] = []
    segments: list[str] = []
    for function, whole_class in found:
        segment = "".join(lines[_start_of(function) - 1 : function.end_lineno])
        segments.append(segment)
        kept.append(
            whole_class
            or function.name == "__init__"
            or any(word in segment for word in words)
            or re.search(r"\b(?:global|nonlocal)\b", segment) is not None
            or (
                follow and (_is_receiver(function) or function.name in _RUN_UNNAMED or ".connect(" in segment)
            )
            # ``def f(): return 1`` keeps its body: there is no line of its own to blank.
            or lines[function.body[0].lineno - 1][: function.body[0].col_offset].strip() != ""
        )
    if follow:
        _keep_what_is_named(functions, segments, kept, text)
    if all(kept):
        return None
    return _blank(lines, [function for function, keep in zip(functions, kept) if not keep])


def _with_local_wrappers(body: list[ast.stmt], lines: list[str], words: tuple[str, ...]) -> tuple[str, ...]:
    """``words`` and the names of the module's functions that mention one (transitively): a
    function that opens its block with ``write_tx()``, the module's own wrapper, names no
    transaction itself."""
    found = list(words)
    module_functions = [
        (statement.name, "".join(lines[_start_of(statement) - 1 : statement.end_lineno]))
        for statement in body
        if isinstance(statement, _FUNCTIONS)
    ]
    changed = True
    while changed:
        changed = False
        for name, segment in module_functions:
            if name not in found and any(word in segment for word in found):
                found.append(name)
                changed = True
    return tuple(found)


def _functions(
    body: list[ast.stmt], whole: set[int], in_whole: bool = False
) -> Iterable[tuple[ast.FunctionDef | ast.AsyncFunctionDef, bool]]:
    """Module-level functions and the methods of module-level classes (nested classes too),
    each with whether its class is kept whole."""
    for statement in body:
        if isinstance(statement, _FUNCTIONS):
            yield statement, in_whole
        elif isinstance(statement, ast.ClassDef):
            yield from _functions(statement.body, whole, in_whole or id(statement) in whole)


def _whole_classes(body: list[ast.stmt], lines: list[str], words: tuple[str, ...]) -> set[int]:
    """Classes whose every method may run in a transaction the class itself states.

    An atomic ``dispatch`` or ``@method_decorator(atomic, name=...)`` makes
    other methods' code run in a block; Django's admin runs ``save_model``
    and its kin in one (a class that mentions ``admin``). Subclasses in the
    module inherit it.
    """
    classes = [statement for statement in body if isinstance(statement, ast.ClassDef)]
    whole: set[int] = set()
    names: set[str] = set()
    for cls in classes:
        # The class's own lines outside its methods' bodies: decorators, bases, statements.
        bodies = {
            number
            for method in cls.body
            if isinstance(method, _FUNCTIONS)
            for number in range(method.body[0].lineno, (method.end_lineno or 0) + 1)
        }
        own = "".join(
            line
            for number, line in enumerate(lines[_start_of(cls) - 1 : cls.end_lineno], _start_of(cls))
            if number not in bodies
        )
        if any(word in own for word in (*words, "admin", "Admin")):
            whole.add(id(cls))
            names.add(cls.name)
    changed = True
    while changed:
        changed = False
        for cls in classes:
            bases = {name for base in cls.bases for name in _IDENTIFIER.findall(ast.unparse(base))}
            if id(cls) not in whole and bases & names:
                whole.add(id(cls))
                names.add(cls.name)
                changed = True
    return whole


def _is_receiver(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """``@receiver(...)``: the module's signals call it without naming it."""
    return any("receiver" in ast.dump(decorator) for decorator in function.decorator_list)


def _keep_what_is_named(
    functions: list[ast.FunctionDef | ast.AsyncFunctionDef], segments: list[str], kept: list[bool], text: str
) -> None:
    """Keep every function a kept function (or module-level code) names, transitively."""
    named = set(_IDENTIFIER.findall(_outside(text, functions)))
    for segment, keep in zip(segments, kept):
        if keep:
            named.update(_IDENTIFIER.findall(segment))
    changed = True
    while changed:
        changed = False
        for position, function in enumerate(functions):
            if not kept[position] and function.name in named:
                kept[position] = changed = True
                named.update(_IDENTIFIER.findall(segments[position]))


def _outside(text: str, functions: list[ast.FunctionDef | ast.AsyncFunctionDef]) -> str:
    """The text of the module outside every function (module code, class bodies)."""
    lines = _lines(text)
    inside = {
        line for function in functions for line in range(_start_of(function), (function.end_lineno or 0) + 1)
    }
    return "".join(line for number, line in enumerate(lines, 1) if number not in inside)


def _start_of(statement: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> int:
    """The first line of the statement: its first decorator's, or the ``def``'s / ``class``'s."""
    return min([statement.lineno, *(decorator.lineno for decorator in statement.decorator_list)])


def _blank(lines: list[str], functions: list[ast.FunctionDef | ast.AsyncFunctionDef]) -> str:
    """Each function's body becomes ``...`` on its first line, blank lines after it."""
    out = list(lines)
    for function in functions:
        first = function.body[0].lineno
        end = function.end_lineno or first
        for number in range(first, end + 1):
            line = out[number - 1]
            ending = line[len(line.rstrip("\r\n")) :]
            if number == first:
                indent = line[: len(line) - len(line.lstrip(" \t\f"))]
                out[number - 1] = f"{indent}...{ending}"
            else:
                out[number - 1] = ending
    return "".join(out)


def _lines(text: str) -> list[str]:
    """The lines as Python numbers them (``str.splitlines`` also breaks at form feeds)."""
    return io.StringIO(text, newline="").readlines()
