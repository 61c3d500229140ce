"""OC108: mail sent inside a transaction, before the commit (``side-effects = mail``).

Measured on real code, most such mail was sent by backends that queue it
themselves or told of data that was already committed: off by default.
"""

from __future__ import annotations

from ..effects import Effect
from .side_effect import SideEffectInBlock


class MailInBlock(SideEffectInBlock):
    codes = ("OC108",)
    kinds = frozenset({Effect.MAIL})
