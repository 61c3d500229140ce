"""The rules, one module each, observing one walk (:class:`~flake8_oncommit.context.Context`).

A rule is a :class:`Check`: it names its codes and the words a file must
mention for it to find anything (the text pre-check is the union over the
enabled rules), and overrides the events it needs. Adding a rule is adding
its module here, its entry in :data:`CHECKS`, its catalogue entry in
:mod:`flake8_oncommit.rules` and its fixtures (see CONTRIBUTING.md).
"""

from __future__ import annotations

from ..config import Config
from ..queues import WORDS as QUEUE_WORDS
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
from .side_effect import SideEffectInBlock
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
    return tuple(
        check
        for check in CHECKS
        if any(config.selects(code) for code in check.codes)
        and (not issubclass(check, SideEffectInBlock) or _effects_on(check, config))
    )


def _effects_on(check: type[SideEffectInBlock], config: Config) -> bool:
    return any(kind.value in config.side_effects for kind in check.kinds)


def words(config: Config) -> tuple[str, ...]:
    """What a file must mention (besides a transaction) for an enabled rule to find anything.

    The rules' own words, and what ``config`` adds: its enqueue functions
    and methods name sends too.
    """
    found = [word for check in selected(config) for word in check.words]
    if any(config.selects(code) for code in ("OC101", "OC105", "OC106")):
        found += [name.rsplit(".", 1)[-1] for name in config.enqueue_functions if name]
        found += list(config.enqueue_methods)
    return tuple(dict.fromkeys(found))


__all__ = ["CHECKS", "QUEUE_WORDS", "Check", "selected", "words"]
