"""OC105: helpers of this module that enqueue, called inside an atomic block.

While the walk goes through every function body it notes, per function, the
first enqueue it makes (not deferred) and the module's own functions it
calls: plain functions, methods through ``self``, and the receivers of the
module's signals. After the walk, a call made inside a block to a function
from which an enqueue is reachable is a finding whose message names the
chain. Functions whose own body already runs inside a block are skipped:
their enqueues are reported where they are.

:class:`HelperCalls` is that bookkeeping, a mixin of
:class:`~.analysis.Analyzer` kept here with the graph it fills.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import libcst as cst

from .atomic import AtomicBlock
from .findings import RawFinding
from .libraries import NOT_PROJECT_PACKAGES
from .names import LocalFunction, dotted_name
from .positions import locate
from .recognize import Recognizer
from .rules import RULES
from .walk import body_runs_later


@dataclass(frozen=True)
class Step:
    """One step of an OC105 chain: what is called, and where it is defined or made.

    A step of this module carries its node (its line is found after the
    walk, only when a finding is reported); a step of another module
    carries its place already (``app/helpers.py:6``, from the project index).
    """

    text: str
    node: cst.CSTNode | None = None
    where: str | None = None


#: A qualified name of another module -> the chain from it to an enqueue, or None.
ExternalChain = Callable[[str], "list[Step] | None"]


def chain_text(steps: Sequence[Step], lines: dict[int, int]) -> str:
    """``helper() at line 10 -> send.delay() at app/tasks.py:4``."""
    parts = []
    for step in steps:
        line = lines.get(id(step.node)) if step.node is not None else None
        if line is not None:
            parts.append(f"{step.text} at line {line}")
        elif step.where is not None:
            parts.append(f"{step.text} at {step.where}")
        else:
            parts.append(step.text)
    return " -> ".join(parts)


@dataclass
class CallGraph:
    """Who enqueues and who calls whom, among one module's functions."""

    #: function id -> description of its first direct enqueue
    direct: dict[int, str] = field(default_factory=dict)
    #: function id -> that enqueue call
    direct_nodes: dict[int, cst.Call] = field(default_factory=dict)
    #: function id -> functions it calls
    edges: dict[int, list[cst.FunctionDef]] = field(default_factory=dict)
    #: functions whose body runs inside an atomic block (reported directly)
    covered: set[int] = field(default_factory=set)
    #: signal (as written) -> receiver functions
    receivers: dict[str, list[cst.FunctionDef]] = field(default_factory=dict)
    #: for the project index: per function, the first enqueue found without
    #: deep look-ups, and the project functions it calls (inside its own
    #: atomic blocks too: a caller's transaction encloses those as well)
    free_direct: dict[int, str] = field(default_factory=dict)
    free_calls: dict[int, list[str]] = field(default_factory=dict)
    #: functions that hand a callable parameter to on_commit
    deferrers: set[int] = field(default_factory=set)

    def add_call(self, caller: cst.FunctionDef, callee: cst.FunctionDef) -> None:
        self.edges.setdefault(id(caller), []).append(callee)

    def add_enqueue(self, owner: cst.FunctionDef, call: cst.Call, description: str, *, free: bool) -> None:
        """``owner`` makes the enqueue ``call`` (``free``: recognised without deep look-ups)."""
        if id(owner) not in self.direct:
            self.direct[id(owner)] = description
            self.direct_nodes[id(owner)] = call
        if free:
            self.free_direct.setdefault(id(owner), description)

    def chain(self, function: cst.FunctionDef, elsewhere: ExternalChain | None = None) -> list[Step] | None:
        """``notify() -> send_welcome.delay()`` as steps, when ``function`` reaches an enqueue.

        ``elsewhere`` follows the calls it makes to other modules of the
        project (the project index), so ``helper() -> notify() -> .delay()``
        is found when ``notify`` lives in another module.
        """
        return self._chain(function, set(), elsewhere)

    def _chain(
        self, function: cst.FunctionDef, seen: set[int], elsewhere: ExternalChain | None
    ) -> list[Step] | None:
        key = id(function)
        if key in seen:
            return None
        seen.add(key)
        name = Step(f"{function.name.value}()", function.name)
        if key in self.direct:
            return [name, Step(self.direct[key], self.direct_nodes.get(key))]
        for callee in self.edges.get(key, ()):
            rest = self._chain(callee, seen, elsewhere)
            if rest is not None:
                return [name, *rest]
        if elsewhere is not None:
            for qualified in self.free_calls.get(key, ()):
                rest = elsewhere(qualified)
                if rest is not None:
                    return [name, *rest]
        return None


@dataclass(frozen=True)
class BlockCall:
    """A call made inside an atomic block to functions of this module."""

    call: cst.Call
    targets: tuple[cst.FunctionDef, ...]
    #: a function of another module of the project (absolute name)
    external: str | None = None


class HelperCalls:
    """OC105 for :class:`~.analysis.Analyzer`: calls noted during the walk, reported after it."""

    # What the walker provides (set up in ``Analyzer.__init__``).
    module: cst.Module
    module_name: str | None
    summary_only: bool
    rec: Recognizer
    findings: list[RawFinding]
    owners: list[cst.FunctionDef | None]
    method_tables: list[dict[str, cst.FunctionDef]]
    graph: CallGraph
    block_calls: list[BlockCall]
    signal_sends: list[cst.Call]

    @property
    @abstractmethod
    def writing_blocks(self) -> list[AtomicBlock]: ...

    @abstractmethod
    def describe(self, call: cst.Call) -> str: ...

    def _local_targets(self, node: cst.Call) -> tuple[cst.FunctionDef, ...]:
        """The module's own functions ``node`` calls: ``helper()``, ``self.helper()``, ``signal.send()``."""
        func = node.func
        if isinstance(func, cst.Name):
            found = self.rec.resolve(func)
            if not isinstance(found, LocalFunction) or body_runs_later(found.node):
                return ()  # calling a generator function or async def runs none of its body
            return (found.node,)
        if not isinstance(func, cst.Attribute):
            return ()
        receiver = func.value
        if isinstance(receiver, cst.Name) and receiver.value in ("self", "cls") and self.method_tables:
            method = self.method_tables[-1].get(func.attr.value)
            return (method,) if method is not None and not body_runs_later(method) else ()
        if func.attr.value in ("send", "send_robust"):
            signal = dotted_name(receiver)
            if signal is not None:
                return tuple(self.graph.receivers.get(signal, ()))
        if func.attr.value == "connect" and node.args:
            signal = dotted_name(receiver)
            handler = self.rec.resolve(node.args[0].value)
            if signal is not None and isinstance(handler, LocalFunction):
                self.graph.receivers.setdefault(signal, []).append(handler.node)
        return ()

    def _note_local_call(self, node: cst.Call) -> None:
        func = node.func
        is_send = isinstance(func, cst.Attribute) and func.attr.value in ("send", "send_robust")
        if is_send:
            # Receivers may be registered further down: resolved after the walk.
            if self.writing_blocks:
                self.signal_sends.append(node)
            return
        targets = self._local_targets(node)
        owner = self.owners[-1] if self.owners else None
        if not targets:
            external = self._external_target(node)
            if external is None:
                return
            if owner is not None:
                self.graph.free_calls.setdefault(id(owner), []).append(external)
            if self.writing_blocks and self.rec.index is not None and not self.summary_only:
                self.block_calls.append(BlockCall(node, (), external))
            return
        if owner is not None:
            for target in targets:
                self.graph.add_call(owner, target)
                if self.module_name and self._is_module_level(target):
                    qualified = f"{self.module_name}.{target.name.value}"
                    self.graph.free_calls.setdefault(id(owner), []).append(qualified)
        if self.writing_blocks:
            self.block_calls.append(BlockCall(node, targets))

    def _external_target(self, node: cst.Call) -> str | None:
        """``helper(...)`` / ``module.helper(...)`` imported from another module of the project."""
        if not isinstance(node.func, (cst.Name, cst.Attribute)):
            return None
        found = self.rec.qualified(node.func)
        if found is None or "." not in found or found.startswith("."):
            return None
        if found.split(".", 1)[0] in NOT_PROJECT_PACKAGES:
            return None
        return found

    def _is_module_level(self, function: cst.FunctionDef) -> bool:
        return any(statement is function for statement in self.module.body)

    def _note_receivers(self, node: cst.FunctionDef) -> None:
        """``@receiver(signal)`` / ``@receiver([a, b])`` on a function of this module."""
        for decorator in node.decorators:
            call = decorator.decorator
            if not isinstance(call, cst.Call) or not call.args:
                continue
            name = self.rec.qualified(call.func)
            if name is None or name.rsplit(".", 1)[-1] != "receiver":
                continue
            signals = call.args[0].value
            elements = signals.elements if isinstance(signals, (cst.List, cst.Tuple)) else [signals]
            for element in elements:
                value = element.value if isinstance(element, cst.BaseElement) else element
                signal = dotted_name(value)
                if signal is not None:
                    self.graph.receivers.setdefault(signal, []).append(node)

    def _report_helpers(self) -> None:
        """After the walk: calls in blocks to helpers from which an enqueue is reachable."""
        calls = list(self.block_calls)
        sends = set()
        for node in self.signal_sends:
            signal = dotted_name(node.func.value) if isinstance(node.func, cst.Attribute) else None
            receivers = tuple(self.graph.receivers.get(signal, ())) if signal else ()
            if receivers:
                calls.append(BlockCall(node, receivers))
                sends.add(id(node))
        found: list[tuple[cst.Call, list[Step]]] = []
        for block_call in calls:
            if block_call.external is not None:
                chain = self._external_chain(block_call.external, first=True)
                if chain is not None:
                    found.append((block_call.call, chain))
                continue
            for target in block_call.targets:
                if id(target) in self.graph.covered:
                    continue
                if self.rec.is_configured(LocalFunction(target), self.rec.config.transactional_queues):
                    continue
                chain = self.graph.chain(target, self._external_chain)
                if chain is None:
                    continue
                if id(block_call.call) in sends:
                    chain = [Step(self.describe(block_call.call)), *chain]
                found.append((block_call.call, chain))
                break
        if not found:
            return
        # One pass for the lines of every step of this module.
        spans = locate(self.module, [step.node for _, chain in found for step in chain if step.node])
        lines = {key: span[0] for key, span in spans.items()}
        for call, chain in found:
            described = self.describe(call)
            # The first step is the call itself (``notify()``), at the helper's definition.
            steps = [replace(chain[0], text=described), *chain[1:]]
            message = RULES["OC105"].message.format(call=described, chain=chain_text(steps, lines))
            self.findings.append(RawFinding("OC105", call, message, None))

    def _external_chain(self, qualified: str, first: bool = False) -> list[Step] | None:
        """The chain to an enqueue from a helper of another module of the project (None: none).

        ``first``: the helper is called right in the block; one whose own body
        runs in an atomic block reports the enqueue itself (as in this module).
        """
        index = self.rec.index
        if index is None or (self.module_name and qualified.startswith(f"{self.module_name}.")):
            return None
        if self.rec.is_configured(qualified, self.rec.config.transactional_queues):
            return None  # a project enqueue function whose delivery waits for the commit
        summary = index.function(qualified)
        if summary is None or summary.wrapper or summary.task is not None or (first and summary.covered):
            return None
        steps = index.chain(qualified)
        return [Step(text, where=where) for text, where in steps] if steps is not None else None
