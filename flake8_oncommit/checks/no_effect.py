"""OC111: ``@transaction.atomic`` on an async def or generator wraps only creating the coroutine."""

from __future__ import annotations

import libcst as cst

from ..findings import RawFinding
from ..rules import RULES
from .base import Check


class AtomicWithoutEffect(Check):
    codes = ("OC111",)
    #: an atomic-decorated async def or generator mentions one of these

    def on_atomic_without_effect(self, decorator: cst.BaseExpression, function: cst.FunctionDef) -> None:
        kind = "an async def" if function.asynchronous is not None else "a generator function"
        message = RULES["OC111"].message.format(kind=kind, name=function.name.value)
        self.ctx.report(RawFinding("OC111", decorator, message, None))
