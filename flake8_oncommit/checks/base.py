"""What a rule is: its codes and the walk events it observes (its words: its catalogue entry)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import libcst as cst

if TYPE_CHECKING:
    from ..context import Context
    from ..enqueues import Enqueue, OnCommit
    from ..side_effects import SideEffect


class Check:
    """One rule (or two that share a detection, OC101/OC106).

    The :class:`~flake8_oncommit.context.Context` creates one per analysed
    module, when one of :attr:`codes` is selected, and calls the event
    methods the subclass overrides; a check reports with
    :meth:`~flake8_oncommit.context.Context.report`.
    """

    #: the codes it reports (its catalogue entries)
    codes: ClassVar[tuple[str, ...]] = ()

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def on_send(self, node: cst.Call, enqueue: Enqueue) -> None:
        """A call that sends a job now (not inside ``on_commit``), inside a block or not."""

    def on_commit_call(self, node: cst.Call, on_commit: OnCommit) -> None:
        """An ``on_commit``-like call (any spelling, or a commit-aware send)."""

    def on_atomic_without_effect(self, decorator: cst.BaseExpression, function: cst.FunctionDef) -> None:
        """An atomic decorator on an async def or a generator function."""

    def on_settings_assignment(self, target: cst.BaseExpression) -> None:
        """A module- or class-level assignment in a settings module."""

    def on_side_effect(self, node: cst.Call, effect: SideEffect) -> None:
        """A call that sends mail, touches Django's cache or writes over HTTP (not inside ``on_commit``)."""

    def finish(self) -> None:
        """After the walk (findings that need the whole module)."""
