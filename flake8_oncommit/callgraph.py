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
from .guard_reading import through_class
from .libraries import NOT_PROJECT_PACKAGES, is_project_name
from .model_signals import (
    ModelCall,
    connect_registration,
    model_call,
    receiver_registrations,
    send_sender,
    signal_key,
)
from .names import LocalClass, LocalFunction, LocalInstance, ProjectCall, Typed, dotted_name
from .walk import (
    block_body,
    body_runs_later,
    class_level_method,
    is_super,
    iter_descendants,
    methods_of,
    parameter_names,
)

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
    #: how the step's target was found, when the code states it away from the call
    #: (``Service from shop/services.py:12, by the annotation at line 40``)
    note: str | None = None


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
            part = f"{step.text} at line {line}"
        elif step.where is not None:
            part = f"{step.text} at {step.where}"
        else:
            part = step.text
        parts.append(f"{part} ({step.note})" if step.note else part)
    return " -> ".join(parts)


@dataclass(frozen=True)
class Resolution:
    """How a call's receiver class was found where the code states it away from the call: an
    annotation, ``self.x = Service()`` in ``__init__``, a view's ``form_class``... The class is
    ``cls`` (this module) or ``qualified`` (another project module); ``node`` is where the code
    says so (lines are found only when a finding is reported)."""

    how: str
    node: cst.CSTNode | None = None
    cls: cst.ClassDef | None = None
    qualified: str | None = None


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
    #: for guards (:mod:`.guards`): function id -> every enqueue it makes (and those
    #: recognised without deep look-ups), every call to a function of the module (with
    #: its target), every call to a project function by name (with the name, and
    #: whether it is made through a class name)
    enqueue_nodes: dict[int, list[cst.Call]] = field(default_factory=dict)
    free_enqueue_nodes: dict[int, list[cst.Call]] = field(default_factory=dict)
    edge_calls: dict[int, list[tuple[cst.Call, cst.FunctionDef]]] = field(default_factory=dict)
    named_calls: dict[int, list[tuple[cst.Call, str, bool]]] = field(default_factory=dict)

    def add_call(self, caller: cst.FunctionDef, callee: cst.FunctionDef) -> None:
        self.edges.setdefault(id(caller), []).append(callee)

    def add_enqueue(self, owner: cst.FunctionDef, call: cst.Call, description: str, *, free: bool) -> None:
        """``owner`` makes the enqueue ``call`` (``free``: recognised without deep look-ups)."""
        if id(owner) not in self.direct:
            self.direct[id(owner)] = description
            self.direct_nodes[id(owner)] = call
        self.enqueue_nodes.setdefault(id(owner), []).append(call)
        if free:
            self.free_direct.setdefault(id(owner), description)
            self.free_enqueue_nodes.setdefault(id(owner), []).append(call)

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
    #: how the receiver's class was found (None: written at the call)
    resolution: Resolution | None = None


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
        self.self_calls: list[tuple[cst.Call, cst.ClassDef, str, str | None]] = []
        #: methods of the module's classes: id -> ``Class.method`` (other modules
        #: call them through the class or an instance)
        self.class_methods: dict[int, str] = {
            id(method): f"{statement.name.value}.{method.name.value}"
            for statement in ctx.module.body
            if isinstance(statement, cst.ClassDef)
            for method in methods_of(statement).values()
        }
        #: ``module.Class.method`` of this module, for a method a class of the module inherits
        #: from another module's: -> its project bases (in look-up order) and the method
        self.inherited: dict[str, tuple[tuple[str, ...], str]] = {}
        #: class id -> what ``self.<name>`` holds, where the code states it
        self._attributes: dict[int, dict[str, Typed | None]] = {}
        #: how the receiver of the call being noted was found
        self._resolution: Resolution | None = None

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
        self._resolution = None
        found = self._local_targets(node)
        targets = found if isinstance(found, tuple) else ()
        owner = ctx.owner
        if not targets:
            external = found if isinstance(found, str) else self._external_target(node)
            if external is None:
                return
            if owner is not None:
                self.graph.free_calls.setdefault(id(owner), []).append(external)
                shifted = through_class(node, ctx.rec.resolve)
                self.graph.named_calls.setdefault(id(owner), []).append((node, external, shifted))
            if ctx.writing_blocks and ctx.rec.index is not None and not ctx.summary_only:
                self.block_calls.append(
                    BlockCall(node, (), external, ctx.writing_blocks[0], self._resolution)
                )
            return
        if owner is not None:
            for target in targets:
                self.graph.add_call(owner, target)
                self.graph.edge_calls.setdefault(id(owner), []).append((node, target))
                name = self.class_methods.get(id(target))
                if name is None and self._is_module_level(target):
                    name = target.name.value
                if ctx.module_name and name is not None:
                    self.graph.free_calls.setdefault(id(owner), []).append(f"{ctx.module_name}.{name}")
                    self.graph.named_calls.setdefault(id(owner), []).append(
                        (node, f"{ctx.module_name}.{name}", False)
                    )
        if ctx.writing_blocks:
            self.block_calls.append(
                BlockCall(node, targets, block=ctx.writing_blocks[0], resolution=self._resolution)
            )

    def _local_targets(self, node: cst.Call) -> tuple[cst.FunctionDef, ...] | str:
        """The module's own functions ``node`` calls: ``helper()``, ``self.helper()``, ``signal.send()``;
        or the absolute name of another module's method it calls on a receiver whose class the
        code states (``svc: Service``, ``self.service``, a base of the class in another module)."""
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
        name = func.attr.value
        if isinstance(receiver, cst.Name) and receiver.value in ("self", "cls") and ctx.method_tables:
            if ctx.writing_blocks and ctx.class_nodes and not ctx.summary_only:
                # A subclass of the module may override it (resolved after the walk).
                in_class = ctx.class_nodes[-1]
                methods = methods_of(in_class)
                caller = next((f.name.value for f in ctx.functions if methods.get(f.name.value) is f), None)
                self.self_calls.append((node, in_class, name, caller))
            method = ctx.method_tables[-1].get(name)
            if method is None and ctx.class_nodes:
                return self._inherited_target(ctx.class_nodes[-1], name) or ()
            return (method,) if method is not None and not body_runs_later(method) else ()
        if is_super(receiver) and ctx.class_nodes:
            return self._super_target(ctx.class_nodes[-1], name)
        if isinstance(receiver, cst.Name):
            cls = ctx.rec.resolve(receiver)
            if isinstance(cls, LocalClass):
                # ``Incident.close_all()``: a static or class method of a class of the module.
                method = class_level_method(cls.node, name)
                if method is not None and not body_runs_later(method):
                    return (method,)
                return ()
        instance = self._instance_class(receiver)
        typed = self._typed_receiver(receiver) if instance is None else None
        if typed is not None:
            self._resolution = Resolution(typed.how, typed.node, typed.cls, typed.qualified)
            if name == "save" and typed.save_as is not None:
                # DRF: ``serializer.save()`` runs the serializer's create() or update().
                name = self._save_runs(typed, typed.save_as)
                if name != "save":
                    how = f"{typed.how}, whose save() runs {name}()"
                    self._resolution = Resolution(how, typed.node, typed.cls, typed.qualified)
            if typed.cls is None:
                return f"{typed.qualified}.{name}"
            instance = typed.cls
        if instance is not None:
            # ``Service().run()``, ``service = Service()`` then ``service.run()``, ``svc: Service``.
            method = ctx.method_table(instance).get(name)
            if method is None:
                return self._inherited_target(instance, name) or ()
            return (method,) if not body_runs_later(method) else ()
        if name in ("send", "send_robust"):
            signal = dotted_name(receiver)
            if signal is not None:
                return tuple(self.graph.receivers.get(signal, ()))
        if name == "connect" and node.args:
            signal = dotted_name(receiver)
            handler = ctx.rec.resolve(node.args[0].value)
            if signal is not None and isinstance(handler, LocalFunction):
                self.graph.receivers.setdefault(signal, []).append(handler.node)
        return ()

    def _save_runs(self, typed: Typed, save_as: str) -> str:
        """``save``, when the serializer's class defines it (itself or a project base), else ``save_as``."""
        if typed.cls is not None:
            return "save" if "save" in self.ctx.method_table(typed.cls) else save_as
        index = self.ctx.rec.index
        if index is None or self.ctx.summary_only or typed.qualified is None:
            return "save"
        return "save" if index.method_owner(f"{typed.qualified}.save") is not None else save_as

    def _inherited_target(self, cls: cst.ClassDef, name: str) -> str | None:
        """``module.Class.name`` for a method a class of the module inherits from a base in another
        project module (which one is looked up only when a chain needs it)."""
        ctx = self.ctx
        if (
            name in _MODEL_LIFECYCLE
            or not ctx.module_name
            or ctx.module_classes.get(cls.name.value) is not cls
        ):
            return None
        bases = tuple(ctx.project_bases(cls))
        if not bases:
            return None
        qualified = f"{ctx.module_name}.{cls.name.value}.{name}"
        self.inherited[qualified] = (bases, name)
        return qualified

    def _super_target(self, cls: cst.ClassDef, name: str) -> tuple[cst.FunctionDef, ...] | str:
        """``super().name()`` in ``cls``: the next class of the module defining it, else the one
        base in another project module (several: looked up in order, only for a check)."""
        ctx = self.ctx
        if name in _MODEL_LIFECYCLE:
            return ()
        for base in ctx.local_mro(cls)[1:]:
            method = methods_of(base).get(name)
            if method is not None:
                return (method,) if not body_runs_later(method) else ()
        bases = tuple(ctx.project_bases(cls))
        if not bases:
            return ()
        if len(bases) == 1:
            self._resolution = Resolution("by super()", qualified=bases[0])
            return f"{bases[0]}.{name}"
        if ctx.summary_only or not ctx.module_name:
            return ()
        qualified = f"{ctx.module_name}.{cls.name.value}.super.{name}"
        self.inherited[qualified] = (bases, name)
        return qualified

    def _typed_receiver(self, receiver: cst.BaseExpression) -> Typed | None:
        """A receiver whose class the code states: an annotated name, ``self.service``."""
        ctx = self.ctx
        if isinstance(receiver, cst.Name):
            found = ctx.rec.resolve(receiver)
            return found if isinstance(found, Typed) else None
        if (
            isinstance(receiver, cst.Attribute)
            and isinstance(receiver.value, cst.Name)
            and receiver.value.value == "self"
            and ctx.class_nodes
            and ctx.method_tables
        ):
            cls = ctx.class_nodes[-1]
            table = self._attributes.get(id(cls))
            if table is None:
                table = self._attributes[id(cls)] = self._attribute_types(cls)
            return table.get(receiver.attr.value)
        return None

    def _attribute_types(self, cls: cst.ClassDef) -> dict[str, Typed | None]:
        """What ``self.<name>`` holds in the methods of ``cls``: a class attribute annotation
        (``service: Service``), else what ``__init__`` assigns (``self.service = Service()``, or an
        annotated parameter) when no other method assigns it (None: unknown)."""
        rec = self.ctx.rec
        annotated: dict[str, Typed | None] = {}
        assigned: dict[str, Typed | None] = {}
        for current in self.ctx.local_mro(cls):
            for statement in block_body(current):
                if isinstance(statement, cst.SimpleStatementLine):
                    for small in statement.body:
                        if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                            typed = rec.typed(
                                small.annotation.annotation, "by the class attribute annotation"
                            )
                            annotated.setdefault(small.target.value, typed)
                elif isinstance(statement, cst.FunctionDef):
                    for name, typed in self._self_assignments(statement):
                        if name in assigned and not _same_class(assigned[name], typed):
                            typed = None
                        assigned[name] = typed
        return {**assigned, **{name: typed for name, typed in annotated.items() if typed is not None}}

    def _self_assignments(self, method: cst.FunctionDef) -> list[tuple[str, Typed | None]]:
        """``self.<name> = ...`` in a method, and what it holds (known only in ``__init__``)."""
        rec = self.ctx.rec
        init = method.name.value == "__init__"
        parameters = {
            param.name.value: param.annotation
            for param in (*method.params.posonly_params, *method.params.params, *method.params.kwonly_params)
        }
        found: list[tuple[str, Typed | None]] = []
        for node in iter_descendants(method.body, into_scopes=False):
            if isinstance(node, cst.Assign):
                targets = [target.target for target in node.targets]
                value: cst.BaseExpression | None = node.value
                annotation = None
            elif isinstance(node, cst.AnnAssign):
                targets, value, annotation = [node.target], node.value, node.annotation
            else:
                continue
            for target in targets:
                if not (
                    isinstance(target, cst.Attribute)
                    and isinstance(target.value, cst.Name)
                    and target.value.value == "self"
                ):
                    continue
                name = target.attr.value
                how = f"by self.{name} set in __init__"
                typed = None
                if init and annotation is not None:
                    typed = rec.typed(annotation.annotation, how)
                elif init and isinstance(value, cst.Call):
                    typed = self._constructed(value, how)
                elif init and isinstance(value, cst.Name):
                    given = parameters.get(value.value)
                    typed = rec.typed(given.annotation, how, value) if given is not None else None
                found.append((name, typed))
        return found

    def _constructed(self, call: cst.Call, how: str) -> Typed | None:
        """``Service(...)``: an instance of a class of the project (another module's: a capitalised name)."""
        found = self.ctx.rec.resolve(call.func)
        if isinstance(found, LocalClass):
            return Typed(found.node, None, how, call)
        if isinstance(found, str) and is_project_name(found) and found.rsplit(".", 1)[-1][:1].isupper():
            return Typed(None, found, how, call)
        return None

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
            if not _acts_on_some_saves(signal, target.node):
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
                    if not _acts_on_some_saves(key, node):
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


def _acts_on_some_saves(signal: str, handler: cst.FunctionDef) -> bool:
    """A ``pre_save``/``post_save`` receiver that reads ``update_fields``: what it does depends on
    which fields a save names, which no reading of the call tells (``get_or_create()`` names
    none). Such receivers are not followed: precision first."""
    if signal not in ("django:pre_save", "django:post_save"):
        return False
    return any(
        isinstance(node, cst.Name) and node.value == "update_fields"
        for node in iter_descendants(handler.body)
    )


#: A model's save()/delete() reached through a base of another module is left to the model
#: signal and override analysis (issue 14, items 4 and 5): the chains there need the call's
#: flags (``save(broadcast=False)``), which a summary does not keep.
_MODEL_LIFECYCLE = frozenset({"save", "delete"})


def _same_class(one: Typed | None, other: Typed | None) -> bool:
    if one is None or other is None:
        return False
    return one.cls is other.cls and one.qualified == other.qualified
