"""OC102, OC103 and OC104: what is wrong with an ``on_commit`` call itself.

These checks run when the walk in :mod:`.analysis` meets an ``on_commit``
call, and read only the context the walk keeps (the loops around the call,
the enclosing atomic blocks and functions). They live here, as a mixin of
:class:`~.analysis.Analyzer`, so the walker stays readable; the
:class:`Loop` record the walk pushes is defined here because only the
late-binding check reads it.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass

import libcst as cst

from .atomic import AtomicBlock
from .config import Config
from .enqueues import OnCommit
from .findings import BindEagerly, PassCallable, RawFinding, SetUsing, Site
from .helpers import CallGraph
from .names import LocalFunction
from .planning import GENERATOR_REASON, Guard, generator_argument
from .recognize import Recognizer
from .resolution import DEFAULT_ALIAS, alias_text, describe_callee, is_literal_alias
from .rules import RULES
from .walk import iter_descendants, names_assigned, names_read, parameter_names


@dataclass
class Loop:
    """A loop around the current code; what it rebinds is computed on demand."""

    body: cst.CSTNode
    targets: frozenset[str]
    _rebinds: frozenset[str] | None = None

    def rebinds(self) -> frozenset[str]:
        if self._rebinds is None:
            self._rebinds = frozenset(names_assigned(self.body)) | self.targets
        return self._rebinds


class OnCommitChecks:
    """The ``on_commit`` checks of :class:`~.analysis.Analyzer`."""

    # What the walker provides (set up in ``Analyzer.__init__``).
    module: cst.Module
    config: Config
    rec: Recognizer
    findings: list[RawFinding]
    loops: list[Loop]
    functions: list[cst.FunctionDef]
    owners: list[cst.FunctionDef | None]
    graph: CallGraph
    guards: list[Guard]

    @property
    @abstractmethod
    def writing_blocks(self) -> list[AtomicBlock]: ...

    @abstractmethod
    def site(self) -> Site: ...

    @abstractmethod
    def describe(self, call: cst.Call) -> str: ...

    def _check_on_commit(self, node: cst.Call, on_commit: OnCommit) -> None:
        callback = on_commit.callback
        self._note_deferrer(callback)
        code_blocks = [block for block in self.writing_blocks if not block.request]
        if on_commit.twin is not None:
            if code_blocks and self.config.selects("OC104"):
                self._check_database(node, on_commit, code_blocks)
            return
        if callback is None:
            return
        if isinstance(callback, cst.Call) and self.config.selects("OC102"):
            self._check_called_callback(callback)
        if self.loops and self.config.selects("OC103"):
            self._check_late_binding(callback)
        if code_blocks and self.config.selects("OC104"):
            self._check_database(node, on_commit, code_blocks)

    def _arguments_enqueue(self, call: cst.Call) -> bool:
        """An enqueue among the call's arguments runs now, even once the call is deferred."""
        for arg in call.args:
            for node in (arg.value, *iter_descendants(arg.value, into_scopes=False)):
                if isinstance(node, cst.Call) and self.rec.enqueue_of(node) is not None:
                    return True
        return False

    def _note_deferrer(self, callback: cst.BaseExpression | None) -> None:
        """A function handing one of its own parameters to on_commit defers for its callers."""
        owner = self.owners[-1] if self.owners else None
        if owner is None or callback is None:
            return
        parameters = parameter_names(owner.params)
        called = callback
        if isinstance(called, cst.Call) and called.args:  # partial(func, ...)
            called = called.args[0].value
        elif isinstance(called, cst.Lambda) and isinstance(called.body, cst.Call):
            called = called.body.func
        if isinstance(called, cst.Name) and called.value in parameters:
            self.graph.deferrers.add(id(owner))

    def _check_called_callback(self, callback: cst.Call) -> None:
        """OC102: ``on_commit(task.delay(x))`` calls the task now."""
        if self.rec.enqueue_of(callback) is None and not self.rec.returns_none(callback.func):
            return
        message = RULES["OC102"].message.format(
            call=self.describe(callback), callee=describe_callee(callback.func)
        )
        reason = None
        if self._arguments_enqueue(callback):
            reason = "its arguments enqueue too, and would still run now"
        elif self.guards:
            reason = self.guards[0].label  # the send moves to the commit, away from the handler
        elif generator_argument(callback):
            reason = GENERATOR_REASON
        if reason is not None:
            self.findings.append(RawFinding("OC102", callback, message, None, reason))
            return
        self.findings.append(RawFinding("OC102", callback, message, PassCallable(callback, self.site())))

    def _check_late_binding(self, callback: cst.BaseExpression) -> None:
        """OC103: a lambda or nested def registered in a loop reads what the loop rebinds."""
        function: cst.FunctionDef | None = None
        if isinstance(callback, cst.Lambda):
            free = names_read(callback.body) - parameter_names(callback.params)
        elif isinstance(callback, cst.Name):
            found = self.rec.resolve(callback)
            if not isinstance(found, LocalFunction):
                return
            function = found.node
            free = (
                names_read(function.body) - parameter_names(function.params) - names_assigned(function.body)
            )
        else:
            return
        rebound: set[str] = set()
        for loop in self.loops:
            rebound |= loop.rebinds()
        hits = tuple(sorted(free & rebound))
        if not hits:
            return
        message = RULES["OC103"].message.format(names=", ".join(hits))
        plan, reason = self._late_binding_fix(callback, function, hits)
        self.findings.append(RawFinding("OC103", callback, message, plan, reason))

    def _late_binding_fix(
        self, callback: cst.BaseExpression, function: cst.FunctionDef | None, hits: tuple[str, ...]
    ) -> tuple[BindEagerly | None, str | None]:
        site = self.site()
        if isinstance(callback, cst.Lambda):
            if parameter_names(callback.params) or callback.params.star_arg != cst.MaybeSentinel.DEFAULT:
                return None, "the lambda takes parameters"
            return BindEagerly(callback, None, hits, site), None
        assert function is not None
        if function.decorators or parameter_names(function.params):
            return None, "the function is decorated or takes parameters"
        if not self.functions or not self._defined_in(function, self.functions[-1]):
            return None, "the function is not defined in this function"
        if self._references(self.functions[-1], function) != 1:
            return None, "the function is used elsewhere too"
        return BindEagerly(callback, function, hits, site), None

    @staticmethod
    def _defined_in(function: cst.FunctionDef, outer: cst.FunctionDef) -> bool:
        return any(node is function for node in iter_descendants(outer.body, into_scopes=False))

    @staticmethod
    def _references(outer: cst.FunctionDef, function: cst.FunctionDef) -> int:
        """Uses of the function's name in ``outer`` (its own ``def`` line excluded)."""
        name = function.name
        return sum(
            1
            for node in iter_descendants(outer.body)
            if isinstance(node, cst.Name) and node.value == name.value and node is not name
        )

    def _check_database(self, node: cst.Call, on_commit: OnCommit, blocks: list[AtomicBlock]) -> None:
        """OC104: ``on_commit`` on another database than the enclosing ``atomic(using=...)``.

        Registering on the database of any enclosing block is right (the
        callback waits for that transaction); otherwise the innermost
        block's database is the one expected.
        """
        block = blocks[-1]
        expected = alias_text(self.module, block.using)
        registered = on_commit.alias
        if registered is None or any(alias_text(self.module, b.using) == registered for b in blocks):
            return
        if expected is None:
            return
        if not (is_literal_alias(expected) and is_literal_alias(registered)):
            return  # an expression on either side: cannot tell, stay silent
        message = RULES["OC104"].message.format(
            registered=_show_alias(registered), expected=_show_alias(expected)
        )
        plan = None
        reason = None
        if on_commit.twin is not None:
            send = on_commit.twin.removesuffix("_on_commit")
            reason = (
                f"{on_commit.twin}() always registers on the default database; "
                f"use transaction.on_commit(partial(task.{send}, ...), using=...)"
            )
        elif not on_commit.fixable_using:
            reason = "registered through a connection object; use transaction.on_commit(..., using=...)"
        elif not block.using_portable:
            reason = block.using_reason or "the atomic block's using= is not visible here"
        elif self.guards:
            # Registered on a database without a transaction, the callback runs
            # at once, where a handler sees its errors; fixed, it runs at commit.
            reason = self.guards[0].label
        else:
            plan = SetUsing(node, block.using if expected != DEFAULT_ALIAS else None)
        self.findings.append(RawFinding("OC104", node, message, plan, reason))


def _show_alias(text: str) -> str:
    return text.strip("`") if text.startswith("`") else f'"{text}"'
