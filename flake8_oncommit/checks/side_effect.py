"""What OC108, OC109 and OC110 share: a side effect a rollback cannot undo, made inside a block.

Each rule is a subclass naming its kinds of :class:`~flake8_oncommit.effects.Effect`
(switched on by the ``side-effects`` setting) and whether its fix is
deferral. A call made right in the block is reported there (fixed like
OC101 when the rule fixes); a call in a block to a helper of the module
that has the effect within a few calls is reported at that call, naming
the chain (fixed in the helper, not here).
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

import libcst as cst

from ..atomic import AtomicBlock
from ..callgraph import EFFECT_DEPTH, BlockCall, Step, chain_text
from ..deferral import plan_deferral
from ..effects import Effect
from ..findings import RawFinding
from ..positions import locate
from ..rules import RULES
from ..side_effects import SideEffect
from ..where import fill_messages
from .base import Check


class SideEffectInBlock(Check):
    """A rule about one kind (or kinds) of side effect."""

    kinds: ClassVar[frozenset[Effect]] = frozenset()
    #: its findings are fixed by deferring the call (mail, cache; not HTTP, whose response is used)
    defers: ClassVar[bool] = True

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.code = self.codes[0]
        enabled = {Effect(name) for name in self.ctx.config.side_effects}
        self.enabled = self.kinds & enabled
        self.pending_where: list[tuple[RawFinding, AtomicBlock, dict[str, str]]] = []

    def on_side_effect(self, node: cst.Call, effect: SideEffect) -> None:
        ctx = self.ctx
        blocks = ctx.writing_blocks
        if effect.kind not in self.enabled or not blocks or self._excused(blocks):
            return
        block = blocks[-1]
        described = ctx.describe(node)
        fix, reason = plan_deferral(ctx, node, block) if self.defers else (None, None)
        finding = RawFinding(self.code, node, RULES[self.code].message, fix, reason)
        ctx.report(finding)
        fields = {"call": described, "method": effect.method}
        self.pending_where.append((finding, blocks[0], fields))

    def _excused(self, blocks: list[AtomicBlock]) -> bool:
        """Whether the rule stays silent in these blocks (subclasses say when)."""
        return False

    def finish(self) -> None:
        self._report_helpers()
        fill_messages(self.ctx.module, self.pending_where, self.ctx.config)

    def _chain_of(self, block_call: BlockCall) -> list[Step] | None:
        """The chain from a call in a block to an enabled kind of side effect (None: none)."""
        graph = self.ctx.calls.graph
        for kind in sorted(self.enabled):
            if block_call.external is not None:
                chain = self._external_chain(block_call.external, kind, EFFECT_DEPTH, first=True)
                if chain is not None:
                    return chain
                continue
            for target in block_call.targets:
                if id(target) in graph.covered:
                    continue
                chain = graph.effect_chain(target, kind, elsewhere=self._external_chain)
                if chain is not None:
                    return chain
        return None

    def _external_chain(
        self, qualified: str, kind: Effect, depth: int, first: bool = False
    ) -> list[Step] | None:
        """The chain to a ``kind`` side effect from a function of another project module (the index).

        ``first``: the function is called right in the block; one whose own
        body runs in an atomic block reports the call itself, in its module.
        """
        ctx = self.ctx
        index = ctx.rec.index
        if index is None or (ctx.module_name and qualified.startswith(f"{ctx.module_name}.")):
            return None
        if first:
            summary = index.function(qualified)
            if summary is None or summary.covered:
                return None
        steps = index.effect_chain(qualified, kind.value, depth)
        return [Step(text, where=where) for text, where in steps] if steps is not None else None

    def _report_helpers(self) -> None:
        """Calls in blocks to helpers (of this or another project module) that have the effect."""
        ctx = self.ctx
        found: list[tuple[BlockCall, list[Step]]] = []
        for block_call in ctx.calls.block_calls:
            chain = self._chain_of(block_call)
            if chain is not None:
                found.append((block_call, chain))
        if not found:
            return
        spans = locate(ctx.module, [step.node for _, chain in found for step in chain if step.node])
        lines = {key: span[0] for key, span in spans.items()}
        for block_call, chain in found:
            described = ctx.describe(block_call.call)
            text = chain_text([replace(chain[0], text=described), *chain[1:]], lines)
            reason = (
                f"it happens inside {chain[0].text}: defer it there" if RULES[self.code].fixable else None
            )
            finding = RawFinding(self.code, block_call.call, RULES[self.code].message, None, reason)
            ctx.report(finding)
            fields = {"call": f"{described} ({text})", "method": "request"}
            self.pending_where.append((finding, block_call.block or AtomicBlock(None), fields))
