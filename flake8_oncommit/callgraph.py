"""Who calls whom, and who enqueues, among one module's functions.

While the walk goes through every function body, :class:`CallRecorder`
notes, per function, the first enqueue it makes (not deferred) and the
module's own functions it calls: plain functions, methods through
``self``, and the receivers of the module's signals; calls made inside an
atomic block to such functions, or to functions of other project modules;
functions that hand a callable parameter to ``on_commit`` (deferrers).

OC105 reads the graph after the walk (:mod:`.checks.helper_chain`); the
project index reads it through the module's summary (:func:`.analysis.summarise`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from .atomic import AtomicBlock
from .effects import Effect
from .libraries import NOT_PROJECT_PACKAGES
from .model_signals import (
    ModelCall,
    connect_registration,
    model_call,
    receiver_registrations,
    send_sender,
    signal_key,
)
from .names import LocalClass, LocalFunction, LocalInstance, ProjectCall, dotted_name
from .walk import body_runs_later, class_level_method, methods_of, parameter_names

if TYPE_CHECKING:
    from .context import Context


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
#: A qualified name of another module, a kind of side effect and the calls
#: left -> the chain from it to such a call, or None.
ExternalEffectChain = Callable[[str, Effect, int], "list[Step] | None"]
#: How many calls deep a side effect is followed from a call in a block.
EFFECT_DEPTH = 3


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
    #: function id -> kind of side effect -> (its first such call, described)
    effects: dict[int, dict[Effect, tuple[cst.Call, str]]] = field(default_factory=dict)

    def add_call(self, caller: cst.FunctionDef, callee: cst.FunctionDef) -> None:
        self.edges.setdefault(id(caller), []).append(callee)

    def add_enqueue(self, owner: cst.FunctionDef, call: cst.Call, description: str, *, free: bool) -> None:
        """``owner`` makes the enqueue ``call`` (``free``: recognised without deep look-ups)."""
        if id(owner) not in self.direct:
            self.direct[id(owner)] = description
            self.direct_nodes[id(owner)] = call
        if free:
            self.free_direct.setdefault(id(owner), description)

    def effect_chain(
        self,
        function: cst.FunctionDef,
        kind: Effect,
        depth: int = EFFECT_DEPTH,
        elsewhere: ExternalEffectChain | None = None,
    ) -> list[Step] | None:
        """``notify() -> send_mail()`` as steps: ``function`` has a ``kind`` effect within ``depth`` calls.

        Only a few calls deep: measured on real code, deeper chains led to
        branches that never run. ``elsewhere`` follows calls to other modules
        of the project (the project index), with the depth left.
        """
        return self._effect_chain(function, kind, depth, set(), elsewhere)

    def _effect_chain(
        self,
        function: cst.FunctionDef,
        kind: Effect,
        depth: int,
        seen: set[int],
        elsewhere: ExternalEffectChain | None,
    ) -> list[Step] | None:
        key = id(function)
        if key in seen or depth <= 0:
            return None
        seen.add(key)
        name = Step(f"{function.name.value}()", function.name)
        found = self.effects.get(key, {}).get(kind)
        if found is not None:
            return [name, Step(found[1], found[0])]
        for callee in self.edges.get(key, ()):
            rest = self._effect_chain(callee, kind, depth - 1, seen, elsewhere)
            if rest is not None:
                return [name, *rest]
        if elsewhere is not None:
            for qualified in self.free_calls.get(key, ()):
                rest = elsewhere(qualified, kind, depth - 1)
                if rest is not None:
                    return [name, *rest]
        return None

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
    #: the outermost writing block around the call (messages say where it opens)
    block: AtomicBlock | None = None


class CallRecorder:
    """Fills the :class:`CallGraph` of one walk; owned by the :class:`~.context.Context`."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.graph = CallGraph()
        #: calls made inside a writing block to functions of this or another project module
        self.block_calls: list[BlockCall] = []
        #: ``signal.send()`` calls made inside a writing block (receivers resolved after the walk)
        self.signal_sends: list[cst.Call] = []
        #: for each of those: the signal's key and the sender's (see :mod:`.model_signals`)
        self.signal_keys: dict[int, tuple[str, str]] = {}
        #: ORM calls made inside a writing block that send a model's signals (``order.save()``)
        self.model_calls: list[tuple[ModelCall, AtomicBlock]] = []
        #: receivers this module registers, for the project's table: (signal, sender, handler)
        self.registrations: list[tuple[str, str, str]] = []
        #: ``self.name()`` calls made inside a writing block, with the class they are in
        self.self_calls: list[tuple[cst.Call, cst.ClassDef, str]] = []
        #: methods of the module's classes: id -> ``Class.method`` (other modules
        #: call them through the class or an instance)
        self.class_methods: dict[int, str] = {
            id(method): f"{statement.name.value}.{method.name.value}"
            for statement in ctx.module.body
            if isinstance(statement, cst.ClassDef)
            for method in methods_of(statement).values()
        }

    def note_enqueue(self, node: cst.Call, description: str, *, deep: bool) -> None:
        owner = self.ctx.owner
        if owner is not None:
            self.graph.add_enqueue(owner, node, description, free=not deep)

    def note_effect(self, node: cst.Call, kind: Effect, description: str) -> None:
        owner = self.ctx.owner
        if owner is not None:
            self.graph.effects.setdefault(id(owner), {}).setdefault(kind, (node, description))

    def note_call(self, node: cst.Call) -> None:
        """A call that sends nothing itself: maybe one to a helper, a receiver or a project function."""
        ctx = self.ctx
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("send", "send_robust"):
            # Receivers may be registered further down: resolved after the walk.
            if ctx.writing_blocks:
                self.signal_sends.append(node)
                signal = signal_key(ctx.rec, func.value) if not ctx.summary_only else None
                sender = send_sender(ctx.rec, node) if signal is not None else None
                if signal is not None and sender is not None:
                    self.signal_keys[id(node)] = (signal, sender)
            return
        if isinstance(func, cst.Attribute) and func.attr.value == "connect":
            self._note_connect(node)
        if ctx.writing_blocks and not ctx.summary_only and ctx.rec.index is not None:
            sent = model_call(ctx.rec, node)
            if sent is not None:
                self.model_calls.append((sent, ctx.writing_blocks[0]))
        targets = self._local_targets(node)
        owner = ctx.owner
        if not targets:
            external = self._external_target(node)
            if external is None:
                return
            if owner is not None:
                self.graph.free_calls.setdefault(id(owner), []).append(external)
            if ctx.writing_blocks and ctx.rec.index is not None and not ctx.summary_only:
                self.block_calls.append(BlockCall(node, (), external, ctx.writing_blocks[0]))
            return
        if owner is not None:
            for target in targets:
                self.graph.add_call(owner, target)
                name = self.class_methods.get(id(target))
                if name is None and self._is_module_level(target):
                    name = target.name.value
                if ctx.module_name and name is not None:
                    self.graph.free_calls.setdefault(id(owner), []).append(f"{ctx.module_name}.{name}")
        if ctx.writing_blocks:
            self.block_calls.append(BlockCall(node, targets, block=ctx.writing_blocks[0]))

    def _local_targets(self, node: cst.Call) -> tuple[cst.FunctionDef, ...]:
        """The module's own functions ``node`` calls: ``helper()``, ``self.helper()``, ``signal.send()``."""
        ctx = self.ctx
        func = node.func
        if isinstance(func, cst.Name):
            found = ctx.rec.resolve(func)
            if not isinstance(found, LocalFunction) or body_runs_later(found.node):
                return ()  # calling a generator function or async def runs none of its body
            return (found.node,)
        if not isinstance(func, cst.Attribute):
            return ()
        receiver = func.value
        if isinstance(receiver, cst.Name) and receiver.value in ("self", "cls") and ctx.method_tables:
            if ctx.writing_blocks and ctx.class_nodes and not ctx.summary_only:
                # A subclass of the module may override it (resolved after the walk).
                self.self_calls.append((node, ctx.class_nodes[-1], func.attr.value))
            method = ctx.method_tables[-1].get(func.attr.value)
            return (method,) if method is not None and not body_runs_later(method) else ()
        if isinstance(receiver, cst.Name):
            cls = ctx.rec.resolve(receiver)
            if isinstance(cls, LocalClass):
                # ``Incident.close_all()``: a static or class method of a class of the module.
                method = class_level_method(cls.node, func.attr.value)
                if method is not None and not body_runs_later(method):
                    return (method,)
                return ()
        instance = self._instance_class(receiver)
        if instance is not None:
            # ``Service().run()``, ``service = Service()`` then ``service.run()``.
            method = ctx.method_table(instance).get(func.attr.value)
            return (method,) if method is not None and not body_runs_later(method) else ()
        if func.attr.value in ("send", "send_robust"):
            signal = dotted_name(receiver)
            if signal is not None:
                return tuple(self.graph.receivers.get(signal, ()))
        if func.attr.value == "connect" and node.args:
            signal = dotted_name(receiver)
            handler = ctx.rec.resolve(node.args[0].value)
            if signal is not None and isinstance(handler, LocalFunction):
                self.graph.receivers.setdefault(signal, []).append(handler.node)
        return ()

    def _instance_class(self, receiver: cst.BaseExpression) -> cst.ClassDef | None:
        """The class of this module ``receiver`` is an instance of, when the code says so."""
        rec = self.ctx.rec
        if isinstance(receiver, cst.Call):
            cls = rec.resolve(receiver.func)
            return cls.node if isinstance(cls, LocalClass) else None
        found = rec.resolve(receiver) if isinstance(receiver, cst.Name) else None
        return found.cls if isinstance(found, LocalInstance) else None

    def _project_class_of(self, receiver: cst.BaseExpression) -> str | None:
        """The project class (of another module) ``receiver`` was made from: ``Service()`` right
        there, or a name assigned ``Service(...)`` in this function."""
        rec = self.ctx.rec
        if isinstance(receiver, cst.Call):
            return rec.qualified(receiver.func)
        found = rec.resolve(receiver) if isinstance(receiver, cst.Name) else None
        return found.qualified if isinstance(found, ProjectCall) else None

    def _external_target(self, node: cst.Call) -> str | None:
        """``helper(...)`` / ``module.helper(...)`` imported from another module of the project, or a
        method of an instance of one of its classes (``Service().run()``)."""
        if not isinstance(node.func, (cst.Name, cst.Attribute)):
            return None
        found = self.ctx.rec.qualified(node.func)
        if found is None and isinstance(node.func, cst.Attribute):
            cls = self._project_class_of(node.func.value)
            found = f"{cls}.{node.func.attr.value}" if cls is not None else None
        if found is None or "." not in found or found.startswith("."):
            return None
        if found.split(".", 1)[0] in NOT_PROJECT_PACKAGES:
            return None
        return found

    def _is_module_level(self, function: cst.FunctionDef) -> bool:
        return any(statement is function for statement in self.ctx.module.body)

    def _note_connect(self, node: cst.Call) -> None:
        """``post_save.connect(handler, sender=Order)``: a receiver for the project's table."""
        ctx = self.ctx
        found = connect_registration(ctx.rec, node)
        if found is None:
            return
        signal, sender, handler = found
        target = ctx.rec.resolve(handler)
        if isinstance(target, LocalFunction) and ctx.module_name and self._is_module_level(target.node):
            self.registrations.append((signal, sender, f"{ctx.module_name}.{target.node.name.value}"))
        elif isinstance(target, str) and "." in target and not target.startswith("."):
            self.registrations.append((signal, sender, target))

    def note_receivers(self, node: cst.FunctionDef) -> None:
        """``@receiver(signal)`` / ``@receiver([a, b])`` on a function of this module."""
        ctx = self.ctx
        for decorator in node.decorators:
            call = decorator.decorator
            if not isinstance(call, cst.Call) or not call.args:
                continue
            if ctx.module_name and ctx.at_module_level:
                for key, sender in receiver_registrations(ctx.rec, call) or ():
                    self.registrations.append((key, sender, f"{ctx.module_name}.{node.name.value}"))
            name = self.ctx.rec.qualified(call.func)
            if name is None or name.rsplit(".", 1)[-1] != "receiver":
                continue
            signals = call.args[0].value
            elements = signals.elements if isinstance(signals, (cst.List, cst.Tuple)) else [signals]
            for element in elements:
                value = element.value if isinstance(element, cst.BaseElement) else element
                signal = dotted_name(value)
                if signal is not None:
                    self.graph.receivers.setdefault(signal, []).append(node)

    def note_deferrer(self, callback: cst.BaseExpression | None) -> None:
        """A function handing one of its own parameters to on_commit defers for its callers."""
        owner = self.ctx.owner
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
