"""OC107: a settings module assigns ``ATOMIC_REQUESTS`` outside ``DATABASES``, where Django ignores it."""

from __future__ import annotations

import libcst as cst

from ..findings import RawFinding
from ..rules import RULES
from .base import Check


class TopLevelAtomicRequests(Check):
    codes = ("OC107",)

    def on_settings_assignment(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name) and target.value == "ATOMIC_REQUESTS":
            self.ctx.report(RawFinding("OC107", target, RULES["OC107"].message, None))
