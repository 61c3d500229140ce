"""OC103: an ``on_commit`` callback made in a loop reads what the loop rebinds, at commit."""

from __future__ import annotations

import libcst as cst

from ..enqueues import OnCommit
from ..findings import BindEagerly, RawFinding
from ..names import LocalFunction
from ..rules import RULES
from ..walk import iter_descendants, names_assigned, names_read, parameter_names
from .base import Check


class LateBinding(Check):
    codes = ("OC103",)

    def on_commit_call(self, node: cst.Call, on_commit: OnCommit) -> None:
        callback = on_commit.callback
        if not self.ctx.loops or callback is None or on_commit.twin is not None:
            return
        function: cst.FunctionDef | None = None
        if isinstance(callback, cst.Lambda):
            free = names_read(callback.body) - parameter_names(callback.params)
        elif isinstance(callback, cst.Name):
            found = self.ctx.rec.resolve(callback)
            if not isinstance(found, LocalFunction):
                return
            function = found.node
            free = (
                names_read(function.body) - parameter_names(function.params) - names_assigned(function.body)
            )
        else:
            return
        rebound: set[str] = set()
        for loop in self.ctx.loops:
            rebound |= loop.rebinds()
        hits = tuple(sorted(free & rebound))
        if not hits or self._commits_each_iteration(hits):
            return
        message = RULES["OC103"].message.format(names=", ".join(hits))
        plan, reason = self._fix(callback, function, hits)
        self.ctx.report(RawFinding("OC103", callback, message, plan, reason))

    def _commits_each_iteration(self, hits: tuple[str, ...]) -> bool:
        """Whether every transaction around the callback is opened inside the loops that rebind
        ``hits``: with none open around the loop, each iteration's block commits (and runs its
        callback, with that iteration's values) before the next rebinds them. A transaction of the
        caller's would make it a bug again; none is visible here, so nothing is reported."""
        blocks = self.ctx.blocks
        if not blocks:
            return False
        outermost = blocks[0]
        opener = outermost.opener
        if opener is None or outermost.opener_is_decorator or outermost.request:
            return False
        loops = [loop for loop in self.ctx.loops if loop.rebinds() & set(hits)]
        # A ``with`` of the loop body: it ends with the iteration (``stack.enter_context(atomic())``
        # in a loop does not, when the stack outlives the loop).
        return all(
            any(
                isinstance(node, cst.With) and any(item.item is opener for item in node.items)
                for node in iter_descendants(loop.body)
            )
            for loop in loops
        )

    def _fix(
        self, callback: cst.BaseExpression, function: cst.FunctionDef | None, hits: tuple[str, ...]
    ) -> tuple[BindEagerly | None, str | None]:
        """Bind exactly ``hits`` at registration (lambda defaults, or def parameters with ``partial``)."""
        ctx = self.ctx
        site = ctx.site()
        if isinstance(callback, cst.Lambda):
            if parameter_names(callback.params) or callback.params.star_arg != cst.MaybeSentinel.DEFAULT:
                return None, "the lambda takes parameters"
            return BindEagerly(callback, None, hits, site), None
        assert function is not None
        if function.decorators or parameter_names(function.params):
            return None, "the function is decorated or takes parameters"
        if not ctx.functions or not _defined_in(function, ctx.functions[-1]):
            return None, "the function is not defined in this function"
        if _references(ctx.functions[-1], function) != 1:
            return None, "the function is used elsewhere too"
        return BindEagerly(callback, function, hits, site), None


def _defined_in(function: cst.FunctionDef, outer: cst.FunctionDef) -> bool:
    return any(node is function for node in iter_descendants(outer.body, into_scopes=False))


def _references(outer: cst.FunctionDef, function: cst.FunctionDef) -> int:
    """Uses of the function's name in ``outer`` (its own ``def`` line excluded)."""
    name = function.name
    return sum(
        1
        for node in iter_descendants(outer.body)
        if isinstance(node, cst.Name) and node.value == name.value and node is not name
    )
