"""Where the transaction of an OC101/OC106 finding opens, said in its message.

``inside transaction.atomic() opened at line 12``, ``inside
@transaction.atomic at line 10``, ``inside the request transaction
(ATOMIC_REQUESTS, shop/settings.py:40)``, ``inside ModelAdmin.save_model,
which Django runs in a transaction``. The walk records which node opened
each block (:class:`~.atomic.AtomicBlock` ``opener``); lines are found
after the walk, in one pass, and only for files with such findings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import libcst as cst

from .atomic import AtomicBlock
from .config import Config
from .findings import RawFinding
from .positions import locate
from .resolution import describe_callee
from .rules import RULES
from .views import ADMIN_ATOMIC_METHODS


def opened(block: AtomicBlock, node: cst.BaseExpression, *, decorator: bool) -> AtomicBlock:
    """``block`` as opened by ``node`` (a ``with`` item, or a decorator)."""
    return dataclasses.replace(block, opener=node, opener_is_decorator=decorator)


def admin_block(method: str) -> AtomicBlock:
    """The transaction Django admin's add/change/delete views run ``method`` in."""
    if method in ADMIN_ATOMIC_METHODS:
        origin = f"ModelAdmin.{method}, which Django runs in a transaction,"
    else:
        origin = f"{method}(), which the admin calls inside the transaction of its save/delete views,"
    return AtomicBlock(None, origin=origin)


def _label(node: cst.BaseExpression, decorator: bool) -> str:
    if isinstance(node, cst.Call):
        name = f"{describe_callee(node.func)}()"
        if name == "method_decorator()" and node.args:
            inner = node.args[0].value
            inner_name = (
                f"{describe_callee(inner.func)}()" if isinstance(inner, cst.Call) else describe_callee(inner)
            )
            name = f"method_decorator({inner_name})"
    else:
        name = describe_callee(node)
    return f"@{name}" if decorator else name


def describe(block: AtomicBlock, lines: dict[int, int], config: Config) -> str:
    """The words after "inside" for ``block``."""
    if block.request:
        origin = config.atomic_requests_origin
        setting = f"ATOMIC_REQUESTS, {origin}" if origin else "atomic-requests = true"
        return f"the request transaction ({setting})"
    if block.origin is not None:
        return block.origin
    if block.opener is None:
        return "transaction.atomic()"
    label = _label(block.opener, block.opener_is_decorator)
    line = lines.get(id(block.opener))
    if block.opener_is_decorator:
        return f"{label} at line {line}" if line else label
    if not isinstance(block.opener, cst.Call):
        label = f"the atomic block {label}"
    return f"{label} opened at line {line}" if line else label


def fill_messages(
    module: cst.Module, pending: Sequence[tuple[RawFinding, AtomicBlock, dict[str, str]]], config: Config
) -> None:
    """Write each finding's message, now that the blocks' lines can be found (one pass).

    Each finding comes with the block it is in and the other fields of its
    rule's message (``call``, ``method``...).
    """
    if not pending:
        return
    openers = [block.opener for _, block, _ in pending if block.opener is not None]
    spans = locate(module, openers) if openers else {}
    lines = {key: span[0] for key, span in spans.items()}
    for finding, block, fields in pending:
        finding.message = RULES[finding.code].message.format(**fields, where=describe(block, lines, config))
