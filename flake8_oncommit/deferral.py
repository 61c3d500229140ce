"""The fix plan of a send found in a block: defer it, its whole ``try``, or say why not.

Shared by every rule whose fix is "defer it with ``on_commit``" (OC101,
OC106): the walk's :class:`~.context.Context` says where the send stands
(its statement, the handlers around it, the function it is in), and
:mod:`.planning` judges whether moving it keeps the program's behaviour.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from .atomic import AtomicBlock
from .enqueues import Enqueue
from .findings import DeferCall, DeferStatement
from .planning import (
    AWAIT_REASON,
    GENERATOR_REASON,
    TRY_REASON,
    changed_later,
    generator_argument,
    read_by,
    rebound_later,
    try_statement_sends,
    whole_try_refusal,
)
from .walk import iter_descendants, names_assigned

if TYPE_CHECKING:
    from .context import Context

Plan = tuple["DeferCall | DeferStatement | None", "str | None"]


def plan_deferral(ctx: Context, node: cst.Call, block: AtomicBlock, enqueue: Enqueue | None = None) -> Plan:
    """How to defer the send without changing anything else, or why not (see :mod:`.planning`)."""
    if node is not ctx.statement_value:
        value = ctx.statement_value
        if isinstance(value, cst.Await) and value.expression is node:
            return None, AWAIT_REASON
        return None, "its result is used"
    if not block.using_portable:
        return None, block.using_reason or "the atomic block's using= cannot be repeated here"
    if arguments_enqueue(ctx, node):
        return None, "its arguments enqueue too, and would still run now"
    if generator_argument(node):
        return None, GENERATOR_REASON
    body = ctx.current_body()
    changed = changed_later(body, node, node, ctx.data_names())
    if changed:
        return None, changed_reason(changed)
    if ctx.guards:
        return _plan_whole_try(ctx, node, block, body)
    plan = DeferCall(
        call=node,
        using=block.using,
        celery_twin=enqueue.celery_twin if enqueue is not None else None,
        site=ctx.site(),
        legacy_async=ctx.is_legacy_async(node),
    )
    return plan, None


def arguments_enqueue(ctx: Context, call: cst.Call) -> bool:
    """An enqueue among the call's arguments runs now, even once the call is deferred."""
    for arg in call.args:
        for node in (arg.value, *iter_descendants(arg.value, into_scopes=False)):
            if isinstance(node, cst.Call) and ctx.rec.enqueue_of(node) is not None:
                return True
    return False


def changed_reason(names: list[str]) -> str:
    return (
        f"its argument {', '.join(names)} is changed later in the block, and would be sent "
        "as it is at commit, not as it is here"
    )


def _plan_whole_try(ctx: Context, node: cst.Call, block: AtomicBlock, body: cst.CSTNode) -> Plan:
    """A send under a handler: deferred with its whole ``try`` statement, or not at all."""
    guard = ctx.guards[-1]
    statement = guard.node
    if len(ctx.guards) > 1 or not isinstance(statement, cst.Try):
        return None, ctx.guards[0].label
    key = id(statement)
    if key not in ctx.try_plans:
        ctx.try_plans[key] = _whole_try(ctx, statement, block, body)
    plan, reason = ctx.try_plans[key]
    if plan is not None and not any(call is node for call in plan.calls):
        return None, TRY_REASON
    return plan, reason


def _whole_try(
    ctx: Context, statement: cst.Try, block: AtomicBlock, body: cst.CSTNode
) -> tuple[DeferStatement | None, str | None]:
    calls = try_statement_sends(statement)
    if calls is None or not all(ctx.rec.enqueue_of(call) is not None for call in calls):
        return None, TRY_REASON
    refusal = whole_try_refusal(statement, calls, body, in_class_body=ctx.rec.names.innermost.kind == "class")
    if refusal is not None:
        return None, refusal
    for call in calls:
        if arguments_enqueue(ctx, call) or generator_argument(call):
            return None, TRY_REASON
        changed = changed_later(body, statement, call, ctx.data_names(), read_later=True)
        if changed:
            return None, changed_reason(changed)
    inside = names_assigned(statement)
    bound = rebound_later(body, statement, read_by(statement) - inside)
    return DeferStatement(statement, tuple(calls), block.using, bound, ctx.site()), None
