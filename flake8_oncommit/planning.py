"""Can an enqueue be deferred without changing what the program does?

Moving ``task.delay(x)`` into ``transaction.on_commit(partial(task.delay,
x))`` changes when the job is sent, by design. It must change nothing else.
The walk in :mod:`.analysis` knows where an enqueue stands; this module
answers, from the code around it, whether the rewrite keeps every other
behaviour, and otherwise gives the reason a user reads:

* a handler that could catch the send's errors (an enclosing ``try`` with
  ``except``, ``contextlib.suppress``) would no longer see them; unless the
  whole ``try`` statement is nothing but the sends, and can be deferred
  with them (:func:`whole_try`);
* an argument passed by reference and changed later in the function is
  sent as it is at commit, not as it was at the enqueue;
* a generator argument would be consumed at commit.

Everything here works on the function (or module) body that holds the
enqueue, read once per fixable finding: findings are rare, so none of this
is on the hot path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import libcst as cst

from .walk import iter_children, names_assigned, names_read, target_names

#: How a reference to a value is written: ``payload`` -> ("payload",),
#: ``obj.items`` -> ("obj", ".items"), ``rows[0]`` -> ("rows", "[]").
Chain = tuple[str, ...]


@dataclass(frozen=True)
class Guard:
    """Something around an enqueue that could catch its errors: ``try`` with handlers, ``suppress``."""

    node: cst.Try | cst.TryStar | cst.With
    #: what the reason calls it
    label: str


TRY_REASON = "inside try/except, whose handlers would no longer see broker errors"
SUPPRESS_REASON = "inside contextlib.suppress(), which would no longer see broker errors"
GENERATOR_REASON = "a generator argument would only be consumed at commit"
AWAIT_REASON = "it is awaited: on_commit() cannot run a coroutine (use the synchronous call)"


#: Exceptions no send raises (Django's lookups, validation, HTTP): a handler
#: or ``suppress`` for only these cannot see a broker error.
_NOT_SEND_ERRORS = (
    "DoesNotExist",
    "MultipleObjectsReturned",
    "ValidationError",
    "PermissionDenied",
    "Http404",
    "SuspiciousOperation",
    "FieldError",
    "FieldDoesNotExist",
)


def catches_send_errors(
    types: cst.BaseExpression | None, is_own: Callable[[cst.BaseExpression], bool] = lambda _: False
) -> bool:
    """Whether ``except <types>`` (or ``suppress(<types>)``) may catch what a send raises.

    ``is_own`` tells an exception class of the module itself (only its own
    ``raise`` statements raise it, never a broker).
    """
    if types is None:
        return True  # a bare ``except:``
    if isinstance(types, (cst.Tuple, cst.List)):
        return any(catches_send_errors(element.value, is_own) for element in types.elements)
    if is_own(types):
        return False
    last = types.attr.value if isinstance(types, cst.Attribute) else getattr(types, "value", "")
    return not (isinstance(last, str) and last.endswith(_NOT_SEND_ERRORS))


def data_names(body: cst.CSTNode, parameters: set[str]) -> set[str]:
    """Names ``body`` binds to values (assignments, loops, ``as``), with ``parameters``.

    Not functions, classes or imports: passing ``parse_file`` to two
    enqueues does not change it.
    """
    found = set(parameters)
    for node in iter_children_deep(body):
        if isinstance(node, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.For, cst.NamedExpr)):
            found |= target_names(node.target)
        elif isinstance(node, cst.AsName) and not isinstance(node.name, cst.ImportStar):
            found |= target_names(node.name) if isinstance(node.name, cst.BaseExpression) else set()
    return found


def iter_children_deep(body: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node under ``body``, not entering nested functions, lambdas or classes."""
    pending = list(iter_children(body))
    while pending:
        node = pending.pop()
        yield node
        if not isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            pending.extend(iter_children(node))


def chain_of(node: cst.BaseExpression) -> Chain | None:
    """The reference chain an expression reads, or None when it builds a new value."""
    parts: list[str] = []
    while True:
        if isinstance(node, cst.Name):
            return (node.value, *reversed(parts))
        if isinstance(node, cst.Attribute):
            parts.append("." + node.attr.value)
            node = node.value
        elif isinstance(node, cst.Subscript):
            parts.append("[]")
            node = node.value
        else:
            return None


def references(node: cst.BaseExpression) -> list[Chain]:
    """The objects an argument hands over by reference (through containers it builds)."""
    chain = chain_of(node)
    if chain is not None:
        return [chain]
    found: list[Chain] = []
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        for element in node.elements:
            found += references(element.value)
    elif isinstance(node, cst.Dict):
        for item in node.elements:
            found += references(item.value)
    elif isinstance(node, cst.StarredElement):
        found += references(node.value)
    return found


def _starts_with(chain: Chain, prefix: Chain) -> bool:
    return chain[: len(prefix)] == prefix


def _mutations(node: cst.CSTNode) -> Iterator[Chain]:
    """The objects ``node`` itself may change in place (not what it merely rebinds)."""
    targets: list[cst.BaseExpression] = []
    if isinstance(node, cst.AssignTarget):
        targets.append(node.target)
    elif isinstance(node, (cst.AnnAssign,)) and node.value is not None:
        targets.append(node.target)
    elif isinstance(node, cst.AugAssign):
        # ``rows += [x]`` extends a list in place; ``obj.n += 1`` changes obj.
        chain = chain_of(node.target)
        if chain is not None:
            yield chain
    elif isinstance(node, cst.Del):
        targets.append(node.target)
    elif isinstance(node, cst.Call):
        if isinstance(node.func, cst.Attribute):
            chain = chain_of(node.func.value)
            if chain is not None:
                yield chain  # a method call on the object
        for arg in node.args:
            if isinstance(arg.value, cst.Name):
                yield (arg.value.value,)  # an object handed to code that may change it
    for target in targets:
        if isinstance(target, (cst.Attribute, cst.Subscript)):
            chain = chain_of(target.value)
            if chain is not None:
                yield chain
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                value = element.value
                if isinstance(value, (cst.Attribute, cst.Subscript)):
                    chain = chain_of(value.value)
                    if chain is not None:
                        yield chain


def _later(body: cst.CSTNode, statement: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Nodes of ``body`` that can run after ``statement`` in the same call.

    Those after it in source order, those in any loop around it, and those in
    nested functions and lambdas (callbacks may run at any time, commit
    included); not the other branch of an ``if`` it is in, nor what follows a
    ``return`` that always comes after it.
    """
    for node, _ in _later_marked(body, statement):
        yield node


def _later_marked(body: cst.CSTNode, statement: cst.CSTNode) -> Iterator[tuple[cst.CSTNode, bool]]:
    """:func:`_later`, each node with whether it comes after ``statement`` in the source."""
    parents = _parents(body)
    ancestors = _ancestors(parents, statement)
    excluded = _other_branches(ancestors, statement)
    cutoff, keep = _return_after(ancestors, statement)
    seen = cut = False
    pending: list[tuple[cst.CSTNode, bool, bool, bool]] = [(body, False, False, False)]
    while pending:
        node, in_loop, in_scope, in_kept = pending.pop()
        if node is statement:
            seen = True
            continue
        if id(node) in excluded:
            continue
        if node is cutoff:
            cut = True
        in_kept = in_kept or id(node) in keep
        if in_scope or (seen and (not cut or in_kept)) or (in_loop and cutoff is None):
            yield node, seen
        loops_here = in_loop or (isinstance(node, (cst.For, cst.While)) and _contains(node, statement))
        scope = in_scope or isinstance(node, (cst.FunctionDef, cst.Lambda))
        children = list(iter_children(node))
        pending.extend((child, loops_here, scope, in_kept) for child in reversed(children))


def _parents(body: cst.CSTNode) -> dict[int, cst.CSTNode]:
    parents: dict[int, cst.CSTNode] = {}
    pending = [body]
    while pending:
        node = pending.pop()
        for child in iter_children(node):
            parents[id(child)] = node
            pending.append(child)
    return parents


def _ancestors(parents: dict[int, cst.CSTNode], node: cst.CSTNode) -> list[cst.CSTNode]:
    """From the innermost to the outermost."""
    found = []
    current = parents.get(id(node))
    while current is not None:
        found.append(current)
        current = parents.get(id(current))
    return found


def _other_branches(ancestors: list[cst.CSTNode], statement: cst.CSTNode) -> set[int]:
    """The branches of the ``if`` statements around ``statement`` that it is not in."""
    excluded: set[int] = set()
    child = statement
    for ancestor in ancestors:
        if isinstance(ancestor, cst.If):
            if child is ancestor.body and ancestor.orelse is not None:
                excluded.add(id(ancestor.orelse))
            elif child is ancestor.orelse:
                excluded.add(id(ancestor.body))
        child = ancestor
    return excluded


_BLOCKS = (cst.IndentedBlock, cst.Module, cst.SimpleStatementLine, cst.SimpleStatementSuite)


def _return_after(
    ancestors: list[cst.CSTNode], statement: cst.CSTNode
) -> tuple[cst.CSTNode | None, set[int]]:
    """The ``return`` that always follows ``statement`` (None: none), and the ``finally``
    bodies that still run after it."""
    child = statement
    keep: set[int] = set()
    for ancestor in ancestors:
        if isinstance(ancestor, cst.Try) and ancestor.finalbody is not None:
            keep.add(id(ancestor.finalbody))
        if isinstance(ancestor, _BLOCKS):
            siblings = list(ancestor.body)
            position = next((index for index, item in enumerate(siblings) if item is child), None)
            if position is not None:
                for sibling in siblings[position + 1 :]:
                    if isinstance(sibling, cst.Return) or (
                        isinstance(sibling, cst.SimpleStatementLine)
                        and any(isinstance(small, cst.Return) for small in sibling.body)
                    ):
                        return sibling, keep
        if isinstance(ancestor, (cst.For, cst.While, cst.FunctionDef, cst.Lambda)):
            return None, keep  # a loop repeats; what follows it is not "always after"
        child = ancestor
    return None, keep


def _contains(outer: cst.CSTNode, inner: cst.CSTNode) -> bool:
    pending = [outer]
    while pending:
        node = pending.pop()
        if node is inner:
            return True
        pending.extend(iter_children(node))
    return False


def changed_later(
    body: cst.CSTNode,
    statement: cst.CSTNode,
    call: cst.Call,
    data: set[str],
    *,
    read_later: bool = False,
) -> list[str]:
    """Arguments of ``call`` (by reference) that code after ``statement`` may change.

    ``notify.delay(payload)`` then ``payload["state"] = "archived"``: the
    original sent the payload as it was; ``partial`` would send it as it is
    at commit. ``notify.delay(order.pk)`` then ``order.save()`` is fine: the
    value was read where the call was. With ``read_later`` (the arguments
    themselves are evaluated at commit, as in a deferred ``try``), a change
    to the object they are read from counts too. Only ``data`` names (the
    function's values, see :func:`data_names`) are followed.
    """
    chains = [chain for arg in call.args for chain in references(arg.value) if chain[0] in data]
    if not chains:
        return []
    # Earlier in a loop around the statement, a name the loop rebinds names
    # the next iteration's object, not the one sent.
    fresh_each_time: set[str] = set()
    for loop in _loops_around(body, statement):
        fresh_each_time |= names_assigned(loop.body)
        if isinstance(loop, cst.For):
            fresh_each_time |= target_names(loop.target)
    changed: list[str] = []
    for node, after in _later_marked(body, statement):
        for mutated in _mutations(node):
            if not after and mutated[0] in fresh_each_time:
                continue
            for chain in chains:
                name = "".join(chain).replace("[]", "[...]")
                overlaps = _starts_with(mutated, chain) or (read_later and _starts_with(chain, mutated))
                if overlaps and name not in changed:
                    changed.append(name)
    return changed


def generator_argument(call: cst.Call) -> bool:
    """A lazily evaluated argument: ``f(x for x in y)`` (a starred one is unpacked at once)."""
    return any(isinstance(arg.value, cst.GeneratorExp) and not arg.star for arg in call.args)


# --------------------------------------------------------------------------
# Deferring a whole ``try`` statement


#: What may appear in the arguments of a send deferred with its ``try``:
#: reading names, attributes and items, literals and operators. A call would
#: run at commit instead of at the enqueue.
_READS = (
    cst.Name,
    cst.Attribute,
    cst.Subscript,
    cst.SubscriptElement,
    cst.Index,
    cst.Slice,
    cst.SimpleString,
    cst.ConcatenatedString,
    cst.FormattedString,
    cst.FormattedStringExpression,
    cst.FormattedStringText,
    cst.Integer,
    cst.Float,
    cst.Imaginary,
    cst.Tuple,
    cst.List,
    cst.Dict,
    cst.Set,
    cst.Element,
    cst.StarredElement,
    cst.DictElement,
    cst.StarredDictElement,
    cst.BinaryOperation,
    cst.UnaryOperation,
    cst.BooleanOperation,
    cst.Comparison,
    cst.ComparisonTarget,
    cst.IfExp,
    cst.Arg,
    cst.BaseBinaryOp,
    cst.BaseUnaryOp,
    cst.BaseBooleanOp,
    cst.BaseCompOp,
)


def only_reads(node: cst.CSTNode) -> bool:
    """No calls, awaits, lambdas or comprehensions: evaluating it later reads the same values."""
    pending = [node]
    while pending:
        current = pending.pop()
        if not isinstance(current, _READS):
            return False
        pending.extend(iter_children(current))
    return True


_CONTROL = (cst.Raise, cst.Return, cst.Break, cst.Continue, cst.Yield, cst.Await, cst.Global, cst.Nonlocal)


def _control_flow(node: cst.CSTNode) -> cst.CSTNode | None:
    """A statement that would act differently inside a nested function (nested scopes excluded)."""
    pending = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, _CONTROL):
            return current
        if isinstance(current, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            continue
        pending.extend(iter_children(current))
    return None


def try_statement_sends(node: cst.Try) -> list[cst.Call] | None:
    """The calls a ``try`` body consists of, one expression statement each (else None)."""
    body = node.body
    if not isinstance(body, cst.IndentedBlock) or not body.body:
        return None
    calls: list[cst.Call] = []
    for statement in body.body:
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            return None
        small = statement.body[0]
        if not isinstance(small, cst.Expr) or not isinstance(small.value, cst.Call):
            return None
        calls.append(small.value)
    return calls


def whole_try_refusal(
    node: cst.Try, calls: list[cst.Call], function_body: cst.CSTNode, *, in_class_body: bool
) -> str | None:
    """Why ``node`` cannot be deferred whole as a nested function (None: it can).

    Its body must be nothing but the sends, reading values only; no
    ``else``/``finally`` (they would move to the commit); handlers that
    neither re-raise nor leave the function (``return``, ``break``...); and
    nothing it binds may be used outside it.
    """
    if in_class_body:
        return TRY_REASON + " (a class body cannot hold the deferred function)"
    if node.orelse is not None or node.finalbody is not None:
        return TRY_REASON + " (its else/finally would run at commit)"
    for call in calls:
        if not all(only_reads(arg.value) for arg in call.args) or not only_reads(call.func):
            return TRY_REASON + " (the arguments would be computed at commit)"
    for handler in node.handlers:
        found = _control_flow(handler)
        if isinstance(found, cst.Raise):
            return TRY_REASON + " (a handler re-raises)"
        if found is not None:
            return TRY_REASON + " (a handler leaves the function or the loop)"
    bound = names_assigned(node) | {
        handler.name.name.value
        for handler in node.handlers
        if handler.name is not None and isinstance(handler.name.name, cst.Name)
    }
    if bound & _names_read_outside(function_body, node):
        return TRY_REASON + " (its handlers bind names used after it)"
    return None


def _names_read_outside(body: cst.CSTNode, skip: cst.CSTNode) -> set[str]:
    found: set[str] = set()
    pending = [body]
    while pending:
        node = pending.pop()
        if node is skip:
            continue
        if isinstance(node, cst.Name):
            found.add(node.value)
        pending.extend(iter_children(node))
    return found


def rebound_later(body: cst.CSTNode, statement: cst.CSTNode, names: set[str]) -> tuple[str, ...]:
    """Which of ``names`` code after ``statement`` (or a loop around it) may bind again."""
    rebound: set[str] = set()
    for loop in _loops_around(body, statement):
        rebound |= names_assigned(loop.body)
        if isinstance(loop, cst.For):
            rebound |= target_names(loop.target)
    for node in _later(body, statement):
        if isinstance(node, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.For, cst.NamedExpr)):
            rebound |= target_names(node.target)
        elif isinstance(node, (cst.Import, cst.ImportFrom)):
            rebound |= names_assigned(cst.SimpleStatementLine([node]))
        elif isinstance(node, cst.AsName) and isinstance(node.name, cst.BaseExpression):
            rebound |= target_names(node.name)
        elif isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            rebound.add(node.name.value)
    return tuple(sorted(name for name in names if name in rebound))


def _loops_around(body: cst.CSTNode, statement: cst.CSTNode) -> list[cst.For | cst.While]:
    """The loops of ``body`` that contain ``statement`` (nested scopes are not entered)."""
    found: list[cst.For | cst.While] = []
    pending = [body]
    while pending:
        node = pending.pop()
        if isinstance(node, (cst.For, cst.While)) and _contains(node, statement):
            found.append(node)
        if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)) and node is not body:
            continue
        pending.extend(iter_children(node))
    return found


def read_by(node: cst.CSTNode) -> set[str]:
    """Names ``node`` reads (attribute and keyword names excluded)."""
    return names_read(node)
