"""OC101 and OC106: a job sent inside an atomic block, or in a view under ATOMIC_REQUESTS.

One detection, two codes: OC101 when a block the code opened (or the
admin's) is around the send, OC106 when only the request's transaction is.
The fix defers the send (:mod:`..deferral`); the message names where the
transaction opens, filled after the walk (:mod:`..where`).
"""

from __future__ import annotations

import libcst as cst

from ..atomic import AtomicBlock
from ..deferral import plan_deferral
from ..enqueues import Enqueue
from ..findings import RawFinding
from ..rules import RULES
from ..where import fill_messages
from .base import Check


class EnqueueInBlock(Check):
    codes = ("OC101", "OC106")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        #: findings whose message names their block's line, filled after the walk
        self.pending_where: list[tuple[RawFinding, AtomicBlock, dict[str, str]]] = []

    def on_send(self, node: cst.Call, enqueue: Enqueue) -> None:
        ctx = self.ctx
        blocks = ctx.writing_blocks
        if not blocks:
            return
        code_blocks = [block for block in blocks if not block.request]
        code = "OC101" if code_blocks else "OC106"
        if not ctx.config.selects(code):
            return
        block = (code_blocks or blocks)[-1]
        described = ctx.describe(node)
        message = RULES[code].message.format(call=described, where="an atomic block")
        fix, reason = plan_deferral(ctx, node, block, enqueue)
        finding = RawFinding(code, node, message, fix, reason)
        ctx.report(finding)
        # The message names where the transaction opens (the outermost block).
        self.pending_where.append((finding, (code_blocks or blocks)[0], {"call": described}))

    def finish(self) -> None:
        fill_messages(self.ctx.module, self.pending_where, self.ctx.config)
