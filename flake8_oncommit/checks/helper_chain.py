"""OC105: inside an atomic block, a call to a project helper from which an enqueue is reachable.

The walk's call graph (:mod:`..callgraph`) is read after the walk: calls in
blocks to the module's own functions, methods through ``self``, receivers
of the module's signals, and functions of other project modules (through
the project index). Functions whose own body already runs inside a block
are skipped: their enqueues are reported where they are. The message names
the chain, each step with its file and line.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import libcst as cst

from ..callgraph import BlockCall, Resolution, Step, chain_text
from ..findings import RawFinding
from ..guard_reading import LocalGuards, shape_of, through_class
from ..guards import IMPLICIT_SAVE, IMPLICIT_UPDATE_SAVE, CallShape, Guard, reach
from ..model_signals import manager_model, sender_matches
from ..names import LocalClass, LocalFunction, dotted_name
from ..positions import locate
from ..rules import RULES
from ..walk import body_runs_later, is_hook, is_super, iter_descendants, methods_of
from .base import Check

if TYPE_CHECKING:
    from ..context import Context


class HelperChain(Check):
    codes = ("OC105",)

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self._guards: LocalGuards | None = None

    @property
    def guards(self) -> LocalGuards:
        """The guards of the module's functions (:mod:`..guards`), read when a chain is found."""
        if self._guards is None:
            self._guards = LocalGuards(self.ctx.calls.graph, self.ctx.module, self._external_guard)
        return self._guards

    def finish(self) -> None:
        ctx = self.ctx
        recorder = ctx.calls
        graph = recorder.graph
        calls = list(recorder.block_calls)
        sends = set()
        for node in recorder.signal_sends:
            signal = dotted_name(node.func.value) if isinstance(node.func, cst.Attribute) else None
            receivers = tuple(graph.receivers.get(signal, ())) if signal else ()
            if receivers:
                calls.append(BlockCall(node, receivers))
                sends.add(id(node))
        #: the call, the chain from it, how the first step reads (None: the call as
        #: written), and how its receiver's class was found
        found: list[tuple[cst.Call, list[Step], str | None, Resolution | None]] = []
        for block_call in calls:
            if block_call.external is not None:
                chain = self._external_chain(block_call.external, first=True)
                shape = self._shape(block_call.call, block_call.external)
                if chain is not None and not _off(shape, self._external_guard(block_call.external)):
                    found.append((block_call.call, chain, None, block_call.resolution))
                continue
            for target in block_call.targets:
                if id(target) in graph.covered:
                    continue
                if ctx.rec.is_configured(LocalFunction(target), ctx.config.transactional_queues):
                    continue
                local_chain = graph.chain(target, self._external_chain)
                if local_chain is None:
                    continue
                if id(block_call.call) not in sends and _off(
                    shape_of(block_call.call, frozenset(), target=target.name.value),
                    self.guards.guard(target),
                ):
                    continue  # the call leaves the flag its enqueues wait on off
                if id(block_call.call) in sends:
                    local_chain = [Step(ctx.describe(block_call.call)), *local_chain]
                found.append((block_call.call, local_chain, None, block_call.resolution))
                break
        found += self._overrides({id(call) for call, _, _, _ in found})
        found += self._signals({id(call) for call, _, _, _ in found})
        if not found:
            return
        # One pass for the lines of every step of this module.
        nodes = [step.node for _, chain, _, _ in found for step in chain if step.node]
        for _, _, _, resolution in found:
            if resolution is not None:
                cls_name = resolution.cls.name if resolution.cls is not None else None
                nodes += [node for node in (resolution.node, cls_name) if node is not None]
        spans = locate(ctx.module, nodes)
        lines = {key: span[0] for key, span in spans.items()}
        for call, chain, first, resolution in found:
            described = ctx.describe(call)
            # The first step is the call itself (``notify()``), at the helper's definition.
            notes = [self._resolution_text(resolution, lines)] if resolution is not None else []
            notes += [chain[0].note] if chain[0].note else []
            steps = [replace(chain[0], text=first or described, note="; ".join(notes) or None), *chain[1:]]
            message = RULES["OC105"].message.format(call=described, chain=chain_text(steps, lines))
            ctx.report(RawFinding("OC105", call, message, None))

    def _resolution_text(self, resolution: Resolution, lines: dict[int, int]) -> str:
        """``Service from shop/services.py:12, by the annotation at line 40``."""
        cls = resolution.cls
        if cls is not None:
            line = lines.get(id(cls.name))
            name = cls.name.value
            said = f"{name} at line {line}" if line else name
        else:
            index = self.ctx.rec.index
            place = index.class_place(resolution.qualified) if index and resolution.qualified else None
            name = place[0] if place else (resolution.qualified or "?").rsplit(".", 1)[-1]
            said = f"{name} from {place[1]}" if place and place[1] else name
        line = lines.get(id(resolution.node)) if resolution.node is not None else None
        return f"{said}, {resolution.how} at line {line}" if line else f"{said}, {resolution.how}"

    def _overrides(
        self, reported: set[int]
    ) -> list[tuple[cst.Call, list[Step], str | None, Resolution | None]]:
        """``self.hook()`` in a block, where a subclass of the module overrides ``hook`` with an
        enqueue: the call may run it (the first step names the subclass's method)."""
        ctx = self.ctx
        graph = ctx.calls.graph
        found: list[tuple[cst.Call, list[Step], str | None, Resolution | None]] = []
        for call, cls, name, caller in ctx.calls.self_calls:
            if id(call) in reported:
                continue
            subclasses = ctx.subclasses(cls)
            for subclass in subclasses:
                method = methods_of(subclass).get(name)
                if method is None or id(method) in graph.covered or body_runs_later(method):
                    continue
                if caller is not None and _overridden_between(subclass, cls, caller, subclasses):
                    continue  # the subclass never runs the method making the call
                chain = graph.chain(method, self._external_chain)
                if chain is not None and not _off(self._shape(call), self.guards.guard(method)):
                    may_run = f"{ctx.describe(call)} (may run {subclass.name.value}.{name}())"
                    found.append((call, chain, may_run, None))
                    reported.add(id(call))
                    break
            else:
                elsewhere = self._override_elsewhere(call, cls, name)
                if elsewhere is not None:
                    found.append(elsewhere)
                    reported.add(id(call))
        return found

    def _override_elsewhere(
        self, call: cst.Call, cls: cst.ClassDef, name: str
    ) -> tuple[cst.Call, list[Step], str | None, Resolution | None] | None:
        """The same for a subclass in another project module: asked only of a module-level class
        whose own ``name`` is a hook (an empty method, there to be overridden)."""
        ctx = self.ctx
        index = ctx.rec.index
        if index is None or not ctx.module_name or ctx.module_classes.get(cls.name.value) is not cls:
            return None
        hook = methods_of(cls).get(name)
        if hook is None or not is_hook(hook):
            return None
        for module, subclass in index.overriders(f"{ctx.module_name}.{cls.name.value}", name):
            chain = self._external_chain(f"{module}.{subclass}.{name}", first=True)
            if chain is not None and not _off(
                self._shape(call), self._external_guard(f"{module}.{subclass}.{name}")
            ):
                return call, chain, f"{ctx.describe(call)} (may run {subclass}.{name}() of {module})", None
        return None

    def _signals(
        self, reported: set[int]
    ) -> list[tuple[cst.Call, list[Step], str | None, Resolution | None]]:
        """Calls in a block whose signals reach a receiver of any project module that enqueues:
        ``order.save()`` (``post_save`` for ``Order``), ``order.tags.add()``, ``order_paid.send()``;
        and ``Order.objects.create()`` running ``Order.save()`` overridden with an enqueue."""
        recorder = self.ctx.calls
        found: list[tuple[cst.Call, list[Step], str | None, Resolution | None]] = []
        for sent, _ in recorder.model_calls:
            if id(sent.call) in reported:
                continue
            chain = (
                self._method_chain(sent.call, sent.sender, sent.method) if sent.method is not None else None
            )
            for signal in sent.signals if chain is None else ():
                chain = self._receiver_chain(f"django:{signal}", sent.sender)
                if chain is not None:
                    break
            if chain is not None:
                found.append((sent.call, chain, None, None))
                reported.add(id(sent.call))
        for call in recorder.signal_sends:
            keys = recorder.signal_keys.get(id(call))
            if id(call) in reported or keys is None:
                continue
            chain = self._receiver_chain(*keys)
            if chain is not None:
                found.append((call, chain, None, None))
                reported.add(id(call))
        return found

    def _method_chain(self, call: cst.Call, model: str, method: str) -> list[Step] | None:
        """``[call, Order.save(), sync.delay()]``: the model's own ``save()`` (``delete()``) enqueues
        (``Order.objects.create()`` runs ``save()`` with no flag of the model's own)."""
        ctx = self.ctx
        prefix = f"{ctx.module_name}." if ctx.module_name else None
        shape = self._shape(call)
        if manager_model(call) is not None:
            updates = isinstance(call.func, cst.Attribute) and call.func.attr.value == "update_or_create"
            shape = IMPLICIT_UPDATE_SAVE if updates else IMPLICIT_SAVE
        if prefix is not None and model.startswith(prefix):
            cls = ctx.rec.names.scopes[0].bindings.get(model[len(prefix) :])
            if not isinstance(cls, LocalClass):
                return None
            target = ctx.method_table(cls.node).get(method)
            if target is None or id(target) in ctx.calls.graph.covered or body_runs_later(target):
                return None
            chain = ctx.calls.graph.chain(target, self._external_chain)
            if chain is not None and _off(shape, self.guards.guard(target)):
                return None
        else:
            chain = self._external_chain(f"{model}.{method}", first=True)
            if chain is not None and _off(shape, self._external_guard(f"{model}.{method}")):
                return None
        if chain is None:
            return None
        named = f"{model.rsplit('.', 1)[-1]}.{method}()"
        return [Step(""), replace(chain[0], text=named), *chain[1:]]

    def _receiver_chain(self, signal: str, sender: str) -> list[Step] | None:
        """``[call, post_save receiver notify() at shop/signals.py:14, sync.delay()]``: a receiver of
        ``signal`` for ``sender`` enqueues. A model signal's receivers must name the sender: one
        that takes every model is not followed (what it does depends on the instance)."""
        ctx = self.ctx
        index = ctx.rec.index
        if index is None:
            return None
        model_signal = signal.startswith("django:")
        for receives, handler in index.receivers(signal):
            if receives:
                if not sender or not sender_matches(receives, sender):
                    continue
            elif model_signal:
                continue
            chain = self._handler_chain(handler)
            if chain is not None:
                name = signal.rsplit(":", 1)[-1].rsplit(".", 1)[-1]
                return [Step(""), replace(chain[0], text=f"{name} receiver {chain[0].text}"), *chain[1:]]
        return None

    def _handler_chain(self, handler: str) -> list[Step] | None:
        ctx = self.ctx
        prefix = f"{ctx.module_name}." if ctx.module_name else None
        if prefix is None or not handler.startswith(prefix):
            return self._external_chain(handler, first=True)
        function = ctx.rec.names.scopes[0].bindings.get(handler[len(prefix) :])
        if not isinstance(function, LocalFunction) or id(function.node) in ctx.calls.graph.covered:
            return None
        if ctx.rec.is_configured(function, ctx.config.transactional_queues):
            return None
        return ctx.calls.graph.chain(function.node, self._external_chain)

    def _shape(self, call: cst.Call, target: str | None = None) -> CallShape:
        """What a call in a block passes (a name passes an unknown value there); ``target``: the
        absolute name of the function it runs."""
        last = target.rsplit(".", 1)[-1] if target is not None else None
        shifted = through_class(call, self.ctx.rec.resolve)
        return shape_of(call, frozenset(), shifted=shifted, target=last)

    def _external_guard(self, qualified: str) -> Guard | None:
        """The guard of a helper of another module (None: no enqueue reached through it)."""
        found = self._external(qualified)
        index = self.ctx.rec.index
        return index.guard(found[0]) if found is not None and index is not None else None

    def _external(self, qualified: str, first: bool = False) -> tuple[str, str | None] | None:
        """The helper of another module ``qualified`` names (a method inherited: the base's) and
        how it was found; None when no chain is followed into it."""
        ctx = self.ctx
        index = ctx.rec.index
        if index is None:
            return None
        inherited = ctx.calls.inherited.get(qualified)
        note = None
        if inherited is not None:
            # A method a class of this module inherits from a base in another module.
            found = self._inherited(*inherited)
            if found is None:
                return None
            qualified, note = found
        elif ctx.module_name and qualified.startswith(f"{ctx.module_name}."):
            return None
        if ctx.rec.is_configured(qualified, ctx.config.transactional_queues):
            return None  # a project enqueue function whose delivery waits for the commit
        summary = index.function(qualified)
        if summary is None or summary.wrapper or summary.task is not None or (first and summary.covered):
            return None
        return qualified, note

    def _external_chain(self, qualified: str, first: bool = False) -> list[Step] | None:
        """The chain to an enqueue from a helper of another module of the project (None: none).

        ``first``: the helper is called right in the block; one whose own body
        runs in an atomic block reports the enqueue itself (as in this module).
        """
        index = self.ctx.rec.index
        found = self._external(qualified, first)
        if found is None or index is None:
            return None
        qualified, note = found
        steps = index.chain(qualified)
        if steps is None:
            return None
        return [
            Step(text, where=where, note=note if number == 0 else None)
            for number, (text, where) in enumerate(steps)
        ]

    def _inherited(self, bases: tuple[str, ...], name: str) -> tuple[str, str] | None:
        """The first of ``bases`` (in another module) that has method ``name``, and how to say it
        (``inherited from PaymentMixin in shop/mixins.py:3``)."""
        index = self.ctx.rec.index
        assert index is not None
        for base in bases:
            owner = index.method_owner(f"{base}.{name}")
            if owner is not None:
                place = index.class_place(owner)
                said = f"{place[0]} in {place[1]}" if place and place[1] else owner.rsplit(".", 1)[-1]
                return f"{base}.{name}", f"inherited from {said}"
        return None


def _overridden_between(
    subclass: cst.ClassDef, cls: cst.ClassDef, name: str, subclasses: list[cst.ClassDef]
) -> bool:
    """Whether ``subclass`` or a class between it and ``cls`` (one of ``subclasses``) defines
    ``name`` itself without calling up (``super().name()``, ``Base.name(self)``): then ``cls``'s
    own ``name`` never runs on its instances."""
    by_name = {candidate.name.value: candidate for candidate in subclasses}
    pending, seen = [subclass], set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        method = methods_of(current).get(name)
        if method is not None and not _calls_up(method, name):
            return True
        for base in current.bases:
            parent = by_name.get(base.value.value) if isinstance(base.value, cst.Name) else None
            if parent is not None:
                pending.append(parent)
    return False


def _calls_up(method: cst.FunctionDef, name: str) -> bool:
    """Whether ``method`` calls ``name`` of a base: ``super().name(...)`` or ``Base.name(self, ...)``."""
    return any(
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == name
        and (is_super(node.func.value) or isinstance(node.func.value, (cst.Name, cst.Attribute)))
        and not (isinstance(node.func.value, cst.Name) and node.func.value.value in ("self", "cls"))
        for node in iter_descendants(method.body)
    )


def _off(shape: CallShape, guard: Guard | None) -> bool:
    """The call cannot reach an enqueue through a callee guarded by ``guard``."""
    return reach(shape, guard) is None
