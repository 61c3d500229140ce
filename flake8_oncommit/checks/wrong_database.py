"""OC104: ``on_commit`` registered on another database than the enclosing ``atomic(using=...)``.

Registering on the database of any enclosing block is right (the callback
waits for that transaction); otherwise the innermost block's database is
the one expected. A commit-aware send (``delay_on_commit``) always
registers on the default database.
"""

from __future__ import annotations

import libcst as cst

from ..enqueues import OnCommit
from ..findings import RawFinding, SetUsing
from ..resolution import DEFAULT_ALIAS, alias_text, is_literal_alias
from ..rules import RULES
from .base import Check


class WrongDatabase(Check):
    codes = ("OC104",)

    def on_commit_call(self, node: cst.Call, on_commit: OnCommit) -> None:
        ctx = self.ctx
        blocks = [block for block in ctx.writing_blocks if not block.request]
        if not blocks or (on_commit.callback is None and on_commit.twin is None):
            return
        block = blocks[-1]
        expected = alias_text(ctx.module, block.using)
        registered = on_commit.alias
        if registered is None or any(alias_text(ctx.module, b.using) == registered for b in blocks):
            return
        if expected is None:
            return
        if not (is_literal_alias(expected) and is_literal_alias(registered)):
            return  # an expression on either side: cannot tell, stay silent
        message = RULES["OC104"].message.format(
            registered=_show_alias(registered), expected=_show_alias(expected)
        )
        plan = None
        reason = None
        if on_commit.twin is not None:
            send = on_commit.twin.removesuffix("_on_commit")
            reason = (
                f"{on_commit.twin}() always registers on the default database; "
                f"use transaction.on_commit(partial(task.{send}, ...), using=...)"
            )
        elif not on_commit.fixable_using:
            reason = "registered through a connection object; use transaction.on_commit(..., using=...)"
        elif not block.using_portable:
            reason = block.using_reason or "the atomic block's using= is not visible here"
        elif ctx.guards:
            # Registered on a database without a transaction, the callback runs
            # at once, where a handler sees its errors; fixed, it runs at commit.
            reason = ctx.guards[0].label
        else:
            plan = SetUsing(node, block.using if expected != DEFAULT_ALIAS else None)
        ctx.report(RawFinding("OC104", node, message, plan, reason))


def _show_alias(text: str) -> str:
    return text.strip("`") if text.startswith("`") else f'"{text}"'
