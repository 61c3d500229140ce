"""The one analysis: a libcst tree in, raw findings out; and a module's summary for the index.

:class:`~.context.Context` walks the module once; the rules
(:mod:`.checks`) observe the walk and report. The same walk, without rules,
summarises a module for the project index (:func:`summarise`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import libcst as cst

from .checks import selected
from .config import DEFAULT_CONFIG, Config
from .context import Context
from .findings import RawFinding
from .guard_reading import conditions, named_shapes, signature
from .index import ProjectIndex
from .libraries import NOT_PROJECT_PACKAGES
from .modules import absolute_name
from .names import COMMIT_AWARE_TASK_BASE, Binding, LocalClass, LocalFunction, TaskDef
from .positions import locate
from .resolution import string_value
from .summaries import ClassSummary, FunctionSummary, ModuleSummary
from .walk import body_runs_later


@dataclass
class Analysis:
    """The outcome of analysing one module."""

    module: cst.Module
    findings: list[RawFinding] = field(default_factory=list)
    #: every module-level name and what it means
    module_bindings: dict[str, Binding] = field(default_factory=dict)


def analyse(
    module: cst.Module,
    config: Config = DEFAULT_CONFIG,
    *,
    filename: str = "<string>",
    legacy_async: frozenset[tuple[int, int]] = frozenset(),
    atomic_requests: bool = False,
    module_name: str | None = None,
    index: ProjectIndex | None = None,
) -> Analysis:
    """Find every problem in ``module``: one walk, observed by the rules ``config`` selects."""
    context = Context(
        module,
        config,
        filename=filename,
        legacy_async=legacy_async,
        atomic_requests=atomic_requests,
        module_name=module_name,
        index=index,
        checks=selected(config),
    )
    findings = context.run()
    return Analysis(module, findings, context.rec.names.scopes[0].bindings)


def summarise_module(
    module: cst.Module,
    config: Config,
    *,
    filename: str,
    module_name: str,
    index: ProjectIndex | None = None,
) -> ModuleSummary:
    """What ``module`` defines, for the project index: the same walk, with no rule observing it."""
    context = Context(
        module, config, filename=filename, module_name=module_name, index=index, summary_only=True
    )
    context.run()
    return summarise(context)


def summarise(analyzer: Context) -> ModuleSummary:
    """What the module's functions are, for the project index (after ``run``)."""
    rec = analyzer.rec
    graph = analyzer.calls.graph
    summary = ModuleSummary()
    #: functions that can be a step of an OC105 chain: their lines are recorded
    chained: list[tuple[str, cst.FunctionDef]] = []
    classes: list[tuple[str, cst.ClassDef]] = []
    for name, binding in rec.names.scopes[0].bindings.items():
        if isinstance(binding, str):
            if "." in binding and binding.split(".", 1)[0] not in NOT_PROJECT_PACKAGES:
                summary.aliases[name] = binding
            continue
        if isinstance(binding, TaskDef):
            summary.functions[name] = FunctionSummary(
                task=binding.kind.value, task_row_alias=binding.row_alias
            )
            continue
        if isinstance(binding, LocalClass):
            _add_class_methods(analyzer, summary, binding.node, chained)
            summary.classes[name] = ClassSummary(
                bases=tuple(analyzer.project_bases(binding.node)),
                methods=tuple(analyzer.method_table(binding.node)),
            )
            classes.append((name, binding.node))
            continue
        if not isinstance(binding, LocalFunction):
            continue
        key = id(binding.node)
        wrapper = rec.wrapper(binding)
        using = wrapper.using if wrapper is not None else None
        default = wrapper.using_default if wrapper is not None else None
        found = FunctionSummary(
            wrapper=wrapper is not None,
            wrapper_using=string_value(using) if using is not None else None,
            wrapper_using_parameter=wrapper.using_parameter if wrapper is not None else None,
            wrapper_using_position=wrapper.using_position if wrapper is not None else None,
            wrapper_using_optional=default is not None
            and (
                string_value(default) is not None
                or (isinstance(default, cst.Name) and default.value == "None")
            ),
            wrapper_using_default=string_value(default) if default is not None else None,
            wrapper_using_unknown=wrapper is not None and not wrapper.using_known,
            enqueue=graph.free_direct.get(key),
            deferrer=key in graph.deferrers,
            calls=tuple(dict.fromkeys(graph.free_calls.get(key, ()))),
            covered=key in graph.covered,
            effects=tuple(
                (kind.value, text, 0) for kind, (_, text) in sorted(graph.effects.get(key, {}).items())
            ),
        )
        if found != FunctionSummary(covered=found.covered):
            if found.enqueue is not None or found.calls:
                found = _with_guards(analyzer, found, binding.node, bound=False)
            summary.functions[name] = found
            if found.enqueue is not None or found.calls or found.effects:
                chained.append((name, binding.node))
    _add_lines(analyzer, summary, chained, classes)
    summary.view_classes = tuple(dict.fromkeys(analyzer.module_view_classes))
    summary.non_atomic_views = tuple(dict.fromkeys(analyzer.module_non_atomic_classes))
    summary.star_modules = tuple(
        dict.fromkeys(
            absolute_name(module, analyzer.module_name or "", rec.is_package)
            for module in rec.names.star_modules
            if module
        )
    )
    summary.receivers = tuple(dict.fromkeys(analyzer.calls.registrations))
    summary.commit_aware_task_bases = tuple(
        name for name, binding in rec.names.scopes[0].bindings.items() if binding == COMMIT_AWARE_TASK_BASE
    )
    return summary


def _add_class_methods(
    analyzer: Context, summary: ModuleSummary, cls: cst.ClassDef, chained: list[tuple[str, cst.FunctionDef]]
) -> None:
    """Its methods (inherited from classes of the module too), as ``Class.method``: other modules
    call them through the class (static and class methods) or an instance (``Service().run()``)."""
    graph = analyzer.calls.graph
    for method_name, statement in analyzer.method_table(cls).items():
        if body_runs_later(statement):
            continue
        key = id(statement)
        found = FunctionSummary(
            enqueue=graph.free_direct.get(key),
            calls=tuple(dict.fromkeys(graph.free_calls.get(key, ()))),
            covered=key in graph.covered,
            effects=tuple(
                (kind.value, text, 0) for kind, (_, text) in sorted(graph.effects.get(key, {}).items())
            ),
        )
        if found.enqueue is not None or found.calls or found.effects:
            name = f"{cls.name.value}.{method_name}"
            if found.enqueue is not None or found.calls:
                found = _with_guards(analyzer, found, statement, bound=True)
            summary.functions[name] = found
            chained.append((name, statement))


def _with_guards(
    analyzer: Context, found: FunctionSummary, function: cst.FunctionDef, *, bound: bool
) -> FunctionSummary:
    """What the index needs to tell ``function``'s guard (:mod:`.guards`)."""
    graph = analyzer.calls.graph
    key = id(function)
    shape = signature(function, bound=bound)
    tested = conditions(function, shape.flags)
    none: frozenset[str] = frozenset()
    waits: frozenset[str] | None = None
    for call in graph.free_enqueue_nodes.get(key, ()):
        flags = tested.get(id(call), none)
        waits = flags if waits is None else waits & flags
    shapes = named_shapes(graph, function, shape.flags, tested)
    calls = tuple(dict.fromkeys((name, passed.encode()) for name, passed in shapes))
    return dataclasses.replace(
        found,
        enqueue_guard=tuple(sorted(waits or ())),
        call_guards=calls,
        parameters=shape.positional,
        off_by_default=shape.off_by_default,
    )


def _add_lines(
    analyzer: Context,
    summary: ModuleSummary,
    chained: list[tuple[str, cst.FunctionDef]],
    classes: list[tuple[str, cst.ClassDef]],
) -> None:
    """Where each chain step and class is, for OC105 messages in other modules: one pass for all."""
    graph = analyzer.calls.graph
    direct = graph.direct_nodes
    nodes: list[cst.CSTNode] = [function.name for _, function in chained]
    nodes += [cls.name for _, cls in classes]
    nodes += [direct[id(function)] for _, function in chained if id(function) in direct]
    nodes += [call for _, function in chained for call, _ in graph.effects.get(id(function), {}).values()]
    if not nodes:
        return
    spans = locate(analyzer.module, nodes)
    for name, cls in classes:
        line = spans.get(id(cls.name), (0,))[0]
        summary.classes[name] = dataclasses.replace(summary.classes[name], line=line)
    for name, function in chained:
        enqueue = direct.get(id(function))
        effects = graph.effects.get(id(function), {})
        summary.functions[name] = dataclasses.replace(
            summary.functions[name],
            line=spans.get(id(function.name), (0,))[0],
            enqueue_line=spans.get(id(enqueue), (0,))[0] if enqueue is not None else 0,
            effects=tuple(
                (kind.value, text, spans.get(id(call), (0,))[0])
                for kind, (call, text) in sorted(effects.items())
            ),
        )
