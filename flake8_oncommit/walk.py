"""Generic traversal of libcst trees without libcst's visitor protocol.

``node.visit(visitor)`` rebuilds every node it passes, even for read-only
visitors; on saleor that costs as much as the parse. These helpers read the
dataclass fields of a node directly and skip the ones that only hold
whitespace and punctuation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

import libcst as cst

_SKIPPED_FIELDS = frozenset(
    {
        "lpar",
        "rpar",
        "comma",
        "semicolon",
        "leading_lines",
        "lines_after_decorators",
        "header",
        "footer",
        "newline",
        "equal",
        "colon",
        "first_colon",
        "second_colon",
        "indent",
        "operator",
        "asynchronous",
        "dot",
        "lbrace",
        "rbrace",
        "lbracket",
        "rbracket",
        "trailing_whitespace",
        "leading_whitespace",
        "star",
        "posonly_ind",
        "separator",
        "trailing_comma",
        "comment",
        "empty_lines",
        "first_line",
        "last_line",
        "default_indent",
        "default_newline",
        "encoding",
        "has_trailing_newline",
        "conversion",
        "annotation",
        "returns",
        "type_parameters",
    }
)
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _concrete_node_classes() -> frozenset[type]:
    found: set[type] = set()
    pending: list[type] = [cst.CSTNode]
    while pending:
        cls = pending.pop()
        found.add(cls)
        pending.extend(cls.__subclasses__())
    return frozenset(found)


#: ``type(x) in NODE_CLASSES`` is a hash lookup; ``isinstance(x, cst.CSTNode)``
#: goes through ABCMeta and was the walk's single largest cost.
NODE_CLASSES = _concrete_node_classes()


def child_fields(cls: type) -> tuple[str, ...]:
    """The fields of a node class that can hold code (not whitespace)."""
    names = _CHILD_FIELDS.get(cls)
    if names is None:
        names = tuple(
            f.name
            for f in dataclasses.fields(cls)
            if f.name not in _SKIPPED_FIELDS and not f.name.startswith("whitespace")
        )
        _CHILD_FIELDS[cls] = names
    return names


def iter_children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The code-bearing children of ``node`` (field order, mostly source order)."""
    nodes = NODE_CLASSES
    for name in child_fields(type(node)):
        value = getattr(node, name)
        kind = type(value)
        if kind in nodes:
            yield value
        elif kind is list or kind is tuple:
            for item in value:
                if type(item) in nodes:
                    yield item


def iter_descendants(node: cst.CSTNode, *, into_scopes: bool = True) -> Iterator[cst.CSTNode]:
    """Every code-bearing node below ``node``.

    With ``into_scopes=False``, the bodies of nested functions, lambdas,
    classes and comprehensions are not entered (their own nodes are yielded).
    """
    pending = list(iter_children(node))
    pending.reverse()
    while pending:
        current = pending.pop()
        yield current
        if not into_scopes and isinstance(current, _SCOPES):
            continue
        children = list(iter_children(current))
        children.reverse()
        pending.extend(children)


_SCOPES = (
    cst.FunctionDef,
    cst.Lambda,
    cst.ClassDef,
    cst.ListComp,
    cst.SetComp,
    cst.DictComp,
    cst.GeneratorExp,
)


def names_read(node: cst.CSTNode) -> set[str]:
    """Names used in ``node``, ignoring attribute names and keyword argument names."""
    found: set[str] = set()
    pending: list[cst.CSTNode] = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, cst.Name):
            found.add(current.value)
            continue
        if isinstance(current, cst.Attribute):
            pending.append(current.value)
            continue
        if isinstance(current, cst.Arg):
            pending.append(current.value)
            continue
        pending.extend(iter_children(current))
    return found


def names_assigned(body: cst.CSTNode, *, declared: bool = False) -> set[str]:
    """Names a block binds in its own scope (nested scopes excluded); ``declared`` adds the names
    it declares ``global``/``nonlocal`` or deletes."""
    found: set[str] = set()

    def targets(target: cst.BaseExpression) -> None:
        found.update(target_names(target))

    for node in iter_descendants(body, into_scopes=False):
        if isinstance(node, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.For, cst.NamedExpr)):
            targets(node.target)
        elif isinstance(node, cst.AsName) and isinstance(node.name, cst.BaseExpression):
            targets(node.name)
        elif isinstance(node, cst.ImportAlias) and node.asname is None:
            # ``import a.b`` binds ``a``; ``from m import x`` binds ``x``.
            name: cst.BaseExpression = node.name
            while isinstance(name, cst.Attribute):
                name = name.value
            if isinstance(name, cst.Name):
                found.add(name.value)
        elif isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            found.add(node.name.value)
        elif isinstance(node, (cst.MatchAs, cst.MatchStar)) and node.name is not None:
            found.add(node.name.value)
        elif isinstance(node, cst.MatchMapping) and node.rest is not None:
            found.add(node.rest.value)
        elif declared and isinstance(node, (cst.Global, cst.Nonlocal)):
            found.update(item.name.value for item in node.names)
        elif declared and isinstance(node, cst.Del):
            targets(node.target)
    return found


def parameter_names(params: cst.Parameters) -> set[str]:
    names = {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}
    if isinstance(params.star_arg, cst.Param):
        names.add(params.star_arg.name.value)
    if params.star_kwarg is not None:
        names.add(params.star_kwarg.name.value)
    return names


def is_hook(function: cst.FunctionDef) -> bool:
    """A method with nothing in it (a docstring, then ``pass``, ``...``, ``raise
    NotImplementedError`` or a bare ``return``): there for subclasses to override."""
    body = list(block_body(function))
    if body and is_docstring(body[0]) and len(body) > 1:
        body = body[1:]
    if len(body) != 1 or not isinstance(body[0], cst.SimpleStatementLine) or len(body[0].body) != 1:
        return False
    statement = body[0].body[0]
    if isinstance(statement, cst.Pass):
        return True
    if isinstance(statement, cst.Expr):
        return isinstance(statement.value, cst.Ellipsis)
    if isinstance(statement, cst.Return):
        return statement.value is None or (
            isinstance(statement.value, cst.Name) and statement.value.value == "None"
        )
    if isinstance(statement, cst.Raise) and statement.exc is not None:
        raised = statement.exc.func if isinstance(statement.exc, cst.Call) else statement.exc
        return isinstance(raised, cst.Name) and raised.value == "NotImplementedError"
    return False


def is_docstring(statement: cst.CSTNode) -> bool:
    """A statement that is only a string: a module's, class's or function's docstring."""
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def body_runs_later(function: cst.FunctionDef) -> bool:
    """An async def or a generator function: calling it only creates a coroutine or generator."""
    if function.asynchronous is not None:
        return True
    return any(isinstance(node, cst.Yield) for node in iter_descendants(function.body, into_scopes=False))


def string_value(node: cst.BaseExpression) -> str | None:
    """The value of a plain string literal (None for anything else, f-strings included)."""
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def block_body(node: cst.FunctionDef | cst.ClassDef) -> Sequence[cst.BaseStatement | cst.BaseSmallStatement]:
    """The statements of a ``def`` or ``class`` body (a one-line body has none worth reading)."""
    return node.body.body if isinstance(node.body, cst.IndentedBlock) else ()


def target_names(target: cst.BaseExpression) -> set[str]:
    """The names an assignment target binds (``a, (b, *c)`` -> a, b, c; ``x.y``, ``x[0]``: none)."""
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, (cst.Tuple, cst.List)):
        found: set[str] = set()
        for element in target.elements:
            found |= target_names(element.value)
        return found
    if isinstance(target, cst.StarredElement):
        return target_names(target.value)
    return set()


def is_super(node: cst.BaseExpression) -> bool:
    """``super()`` or ``super(Cls, self)``."""
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "super"


def methods_of(cls: cst.ClassDef) -> dict[str, cst.FunctionDef]:
    """The methods a class body defines (not those it inherits)."""
    return {
        statement.name.value: statement
        for statement in block_body(cls)
        if isinstance(statement, cst.FunctionDef)
    }


def class_level_method(cls: cst.ClassDef, name: str) -> cst.FunctionDef | None:
    """``name`` when the class defines it as a ``@staticmethod`` or ``@classmethod``: callable
    through the class name (``Incident.close_all()``) without an instance."""
    method = methods_of(cls).get(name)
    if method is None:
        return None
    for decorator in method.decorators:
        target = decorator.decorator
        if isinstance(target, cst.Name) and target.value in ("staticmethod", "classmethod"):
            return method
    return None
