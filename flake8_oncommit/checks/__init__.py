"""The rules, one module each, observing one walk (:class:`~flake8_oncommit.context.Context`).

A rule is a :class:`Check`: it names its codes and overrides the events
it needs; its catalogue entry names the words a file must mention for it
to find anything (the text pre-check is the union over the enabled rules). Adding a rule is adding
its module here, its entry in :data:`CHECKS`, its catalogue entry in
:mod:`flake8_oncommit.rules` and its fixtures (see CONTRIBUTING.md).
"""

from __future__ import annotations

from ..config import Config
from .base import Check
from .cache import CacheInBlock
from .called_enqueue import CalledEnqueue
from .enqueue_in_block import EnqueueInBlock
from .helper_chain import HelperChain
from .http import HttpInBlock
from .late_binding import LateBinding
from .mail import MailInBlock
from .no_effect import AtomicWithoutEffect
from .settings import TopLevelAtomicRequests
from .wrong_database import WrongDatabase

#: Every rule, in the order they observe each event.
CHECKS: tuple[type[Check], ...] = (
    EnqueueInBlock,
    CalledEnqueue,
    LateBinding,
    WrongDatabase,
    HelperChain,
    TopLevelAtomicRequests,
    MailInBlock,
    CacheInBlock,
    HttpInBlock,
    AtomicWithoutEffect,
)


def selected(config: Config) -> tuple[type[Check], ...]:
    """The rules ``config`` turns on (a side-effect rule also needs its kind in ``side-effects``)."""
    return tuple(check for check in CHECKS if any(config.enables(code) for code in check.codes))


__all__ = ["CHECKS", "Check", "selected"]
