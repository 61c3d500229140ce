"""OC102: ``on_commit(task.delay(x))``: the task is sent now, ``on_commit`` gets its result."""

from __future__ import annotations

import libcst as cst

from ..deferral import arguments_enqueue
from ..enqueues import OnCommit
from ..findings import PassCallable, RawFinding
from ..planning import GENERATOR_REASON, generator_argument
from ..resolution import describe_callee
from ..rules import RULES
from .base import Check


class CalledEnqueue(Check):
    codes = ("OC102",)

    def on_commit_call(self, node: cst.Call, on_commit: OnCommit) -> None:
        callback = on_commit.callback
        if on_commit.twin is not None or not isinstance(callback, cst.Call):
            return
        ctx = self.ctx
        if ctx.rec.enqueue_of(callback) is None and not ctx.rec.returns_none(callback.func):
            return
        message = RULES["OC102"].message.format(
            call=ctx.describe(callback), callee=describe_callee(callback.func)
        )
        reason = None
        if arguments_enqueue(ctx, callback):
            reason = "its arguments enqueue too, and would still run now"
        elif ctx.guards:
            reason = ctx.guards[0].label  # the send moves to the commit, away from the handler
        elif generator_argument(callback):
            reason = GENERATOR_REASON
        if reason is not None:
            ctx.report(RawFinding("OC102", callback, message, None, reason))
            return
        ctx.report(RawFinding("OC102", callback, message, PassCallable(callback, ctx.site())))
