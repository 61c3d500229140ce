"""OC110: an outbound HTTP request that changes remote state, inside a transaction (``side-effects = http``).

POST/PUT/PATCH/DELETE through ``requests``/``httpx`` (functions and
sessions) and ``urlopen`` with data; never GET or HEAD, a method chosen at
run time, or a credential exchange (a token or login URL, a
``grant_type`` body). Not fixable: the response is usually used. Under
ATOMIC_REQUESTS, a GET/HEAD/OPTIONS handler's transaction writes nothing
worth waiting for.
"""

from __future__ import annotations

from ..atomic import AtomicBlock
from ..effects import Effect
from .side_effect import SideEffectInBlock

_READING_HANDLERS = frozenset({"get", "head", "options"})


class HttpInBlock(SideEffectInBlock):
    codes = ("OC110",)
    kinds = frozenset({Effect.HTTP})
    defers = False

    def _excused(self, blocks: list[AtomicBlock]) -> bool:
        functions = self.ctx.functions
        only_request = all(block.request for block in blocks)
        return only_request and bool(functions) and functions[0].name.value in _READING_HANDLERS
