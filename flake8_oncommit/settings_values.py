"""What a parsed settings module says: is ATOMIC_REQUESTS on, is django-q's broker the ORM?

The libcst half of :mod:`.settings_scan`, imported only when a settings
module has to be parsed (a warm run reads the answers from the cache).
"""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from .libraries import READ_ONLY_ALIAS
from .parsing import ParseError, parse
from .positions import locate
from .walk import iter_children, iter_descendants, string_value

KEY = "ATOMIC_REQUESTS"
DJANGO_Q_KEY = "Q_CLUSTER"


def evidence_lines(text: str, keys: list[str]) -> dict[str, int]:
    """For each of ``keys`` that the module turns on, the line where it does."""
    try:
        module, _ = parse(text)
    except (ParseError, RecursionError):
        return {}
    found: dict[str, int] = {}
    for key in keys:
        node = _FINDERS[key](module)
        if node is not None:
            found[key] = locate(module, [node]).get(id(node), (1, 0, 1, 0))[0]
    return found


def _is_literal_false(node: cst.BaseExpression, constants: dict[str, cst.BaseExpression]) -> bool:
    """A literal false, a module constant holding one, or a lookup defaulting to one.

    ``env.bool("ATOMIC", default=False)`` and ``config("ATOMIC", False, cast=bool)``
    are off unless the environment says otherwise: treated as false.
    """
    if isinstance(node, cst.Name):
        if node.value in ("False", "None"):
            return True
        constant = constants.get(node.value)
        return constant is not None and constant is not node and _is_literal_false(constant, {})
    if isinstance(node, cst.Integer):
        return node.value == "0"
    if isinstance(node, cst.SimpleString):
        return string_value(node) in ("", "0", "false", "False")
    if isinstance(node, cst.Call):
        keywords = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
        default = keywords.get("default")
        positional = [a.value for a in node.args if a.keyword is None and not a.star]
        if default is None and len(positional) >= 2:
            default = positional[1]
        return default is not None and _is_literal_false(default, constants)
    return False


def _settings_values(node: cst.CSTNode, out: list[cst.BaseExpression]) -> None:
    """Every value given to ATOMIC_REQUESTS under ``node``, in source order.

    Entries of a read-replica alias (``"replica": {...}``) are skipped: a
    transaction there cannot write.
    """
    if isinstance(node, cst.DictElement):
        key = string_value(node.key)
        if key == KEY:
            out.append(node.value)
            return
        if key is not None and READ_ONLY_ALIAS.search(key):
            return
    elif isinstance(node, cst.Arg) and node.keyword is not None and node.keyword.value == KEY:
        out.append(node.value)
        return
    elif isinstance(node, cst.Assign):
        for target in node.targets:
            subscript = target.target
            if isinstance(subscript, cst.Subscript) and _subscript_key(subscript) == KEY:
                out.append(node.value)
                return
    for child in iter_children(node):
        _settings_values(child, out)


def _subscript_key(node: cst.Subscript) -> str | None:
    """``"key"`` in ``x["key"]``, or None."""
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return None
    return string_value(node.slice[0].slice.value)


def _switch_on(module: cst.Module) -> cst.CSTNode | None:
    """The value that leaves ATOMIC_REQUESTS on in this module, if any.

    The last setting in the file wins (a later ``... = False`` turns it off).
    """
    constants: dict[str, cst.BaseExpression] = {}
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Assign) and len(small.targets) == 1:
                    target = small.targets[0].target
                    if isinstance(target, cst.Name):
                        constants[target.value] = small.value
    values: list[cst.BaseExpression] = []
    _settings_values(module, values)
    if not values or _is_literal_false(values[-1], constants):
        return None
    return values[-1]


def _orm_broker(module: cst.Module) -> cst.CSTNode | None:
    """The last ``Q_CLUSTER`` dict (or ``Q_CLUSTER["orm"] = ...``) that names an ORM alias."""
    found: cst.CSTNode | None = None
    for node in iter_descendants(module):
        if not isinstance(node, cst.Assign):
            continue
        for target in node.targets:
            name = target.target
            if isinstance(name, cst.Name) and name.value == DJANGO_Q_KEY:
                found = _orm_element(node.value)
            elif (
                isinstance(name, cst.Subscript)
                and isinstance(name.value, cst.Name)
                and name.value.value == DJANGO_Q_KEY
                and _subscript_key(name) == "orm"
            ):
                found = None if _is_literal_false(node.value, {}) else node
    return found


def _orm_element(value: cst.BaseExpression) -> cst.CSTNode | None:
    if isinstance(value, cst.Dict):
        for element in value.elements:
            if isinstance(element, cst.DictElement) and string_value(element.key) == "orm":
                return None if _is_literal_false(element.value, {}) else element
    return None


#: What the scan looks for: the setting's name (in the text), and what in a
#: parsed settings module is the evidence that it is on.
_FINDERS: dict[str, Callable[[cst.Module], cst.CSTNode | None]] = {
    KEY: _switch_on,
    DJANGO_Q_KEY: _orm_broker,
}
