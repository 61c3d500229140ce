"""What an expression is: the recogniser the analysis asks, node by node.

:class:`Recognizer` combines name resolution (:mod:`.resolution`), atomic
blocks (:mod:`.atomic`) and enqueues/deferrals (:mod:`.enqueues`), and binds
what assignments and definitions make names mean. It keeps no walking
state: the walker in :mod:`.analysis` decides what is a finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import libcst as cst

from . import libraries as lib
from .atomic import AtomicRecognizer
from .enqueues import EnqueueRecognizer
from .model_signals import instance_binding
from .names import (
    LOCAL,
    AtomicContext,
    Binding,
    Canvas,
    LocalClass,
    LocalFunction,
    LocalInstance,
    Marker,
    ProjectCall,
    Typed,
    import_bindings,
)
from .side_effects import EffectRecognizer
from .walk import iter_children, iter_descendants, string_value

#: A string annotation naming a class: ``"Service"``, ``"shop.services.Service"``.
_DOTTED = re.compile(r"[A-Za-z_][\w.]*")
_OPTIONAL = frozenset({"typing.Optional", "typing_extensions.Optional", "Optional"})
_UNION = frozenset({"typing.Union", "typing_extensions.Union", "Union"})


class Recognizer(AtomicRecognizer, EnqueueRecognizer, EffectRecognizer):
    """Answers "what is this node?" with the names of the module in view."""

    def value_binding(self, value: cst.BaseExpression, *, lazy: bool = True) -> Binding:
        """What assigning ``value`` to a name makes the name mean.

        ``lazy``: a call of another project module's function is bound as a
        :class:`~.names.ProjectCall`, and the index asked only where the name
        is used as a context manager or decorator. Module level is bound
        eagerly (what a module-level name means may keep a later assignment
        from overriding it).
        """
        if isinstance(value, cst.Name) and self.names.lookup(value.value) is None:
            # ``x = None``, ``x = some_builtin``: nothing worth aliasing.
            return LOCAL
        if isinstance(value, (cst.Name, cst.Attribute)):
            found = self.resolve(value)
            return found if found is not None else LOCAL
        if isinstance(value, cst.Call):
            block = self.atomic_of(value, project=not lazy)
            if block is not None:
                return AtomicContext(block.using)
            instance = instance_binding(self, value)
            if instance is not None:
                # ``order = Order.objects.create(...)``: its methods, its save() signals.
                return instance
            binding = self._call_binding(value)
            if lazy:
                found = self.resolve(value.func)
                if self._ask_index(found) is not None and isinstance(found, str):
                    if binding is LOCAL:
                        return ProjectCall(found, value)
                    block = self.atomic_of(value)  # a rare pair: ask now, as for module level
                    if block is not None:
                        return AtomicContext(block.using)
            return binding
        if isinstance(value, (cst.Subscript, cst.Dict)):
            return self.effect_marker(value) or LOCAL
        if isinstance(value, cst.IfExp):
            for branch in (value.body, value.orelse):
                binding = self.value_binding(branch, lazy=False)
                if isinstance(binding, (AtomicContext, Canvas)):
                    return binding
            return LOCAL
        if isinstance(value, cst.BinaryOperation):
            canvas = self.canvas_of(value)
            return canvas if canvas is not None else LOCAL
        return LOCAL

    def _call_binding(self, value: cst.Call) -> Binding:
        """What a call's result is, the project's atomic wrappers aside."""
        canvas = self.canvas_of(value)
        if canvas is not None:
            return canvas
        cls = self.resolve(value.func)
        if isinstance(cls, LocalClass):
            return LocalInstance(cls.node)
        if isinstance(cls, str):
            if cls in lib.SIGNAL_CLASSES:
                return Marker("signal")
            marker = self.value_marker(cls) or self.effect_marker(value)
            if marker is not None:
                return marker
        return LOCAL

    def typed(
        self, annotation: cst.BaseExpression, how: str, node: cst.CSTNode | None = None
    ) -> Typed | None:
        """What a name annotated ``annotation`` holds, when that is a class of the project:
        ``Service``, ``Optional[Service]``, ``Service | None``, ``"Service"``."""
        found = self.annotation_class(annotation)
        if found is None:
            return None
        return Typed(found[0], found[1], how, node if node is not None else annotation)

    def annotation_class(
        self, annotation: cst.BaseExpression
    ) -> tuple[cst.ClassDef | None, str | None] | None:
        """The project class an annotation names (this module's, or another module's absolute name)."""
        node = annotation
        for _ in range(4):
            if isinstance(node, cst.SimpleString):
                text = (string_value(node) or "").strip()
                if not _DOTTED.fullmatch(text):
                    return None
                try:
                    node = cst.parse_expression(text)
                except cst.ParserSyntaxError:
                    return None
            elif isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
                sides = [side for side in (node.left, node.right) if not _is_none(side)]
                if len(sides) != 1:
                    return None
                node = sides[0]
            elif isinstance(node, cst.Subscript):
                name = self.qualified(node.value)
                elements = [
                    element.slice.value for element in node.slice if isinstance(element.slice, cst.Index)
                ]
                kept = [element for element in elements if not _is_none(element)]
                if len(kept) != 1 or not (name in _UNION or (name in _OPTIONAL and len(elements) == 1)):
                    # ``Optional[None]`` names no class; ``Union[A, B]`` two
                    return None
                node = kept[0]
            else:
                break
        if not isinstance(node, (cst.Name, cst.Attribute)):
            return None
        found = self.resolve(node)
        if isinstance(found, LocalClass):
            return found.node, None
        if isinstance(found, str) and lib.is_project_name(found):
            return None, found
        return None

    def function_binding(self, node: cst.FunctionDef) -> Binding:
        for decorator in node.decorators:
            task = self.task_def(decorator.decorator, node.name.value)
            if task is not None:
                return task
        return LocalFunction(node)

    def bind_statement(self, small: cst.BaseSmallStatement) -> None:
        """Bind what one simple statement binds (used for module level)."""
        if isinstance(small, (cst.Import, cst.ImportFrom)):
            self.bind_import(small)
        elif isinstance(small, cst.Assign):
            binding = self.value_binding(small.value, lazy=False)
            for target in small.targets:
                self.bind_target(target.target, binding)
        elif isinstance(small, cst.AnnAssign):
            binding = self.value_binding(small.value, lazy=False) if small.value is not None else LOCAL
            self.bind_target(small.target, binding)
        elif isinstance(small, cst.AugAssign):
            self.bind_target(small.target, LOCAL)

    def prescan_module(self) -> None:
        """Bind every module-level name first, so functions see later definitions.

        A task defined below the view that calls it is still a task. Only
        statements at module level (and inside module-level if/try/with
        blocks) are looked at; function and class bodies are not.
        """
        pending: list[cst.CSTNode] = list(reversed(self.module.body))
        while pending:
            statement = pending.pop()
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    self.bind_statement(small)
            elif isinstance(statement, cst.FunctionDef):
                self.bind(statement.name.value, self.function_binding(statement))
            elif isinstance(statement, cst.ClassDef):
                self.bind(statement.name.value, self.task_class_binding(statement))
            elif isinstance(statement, cst.If) and self.is_type_checking(statement.test):
                # Imports for type checkers only: the names do not exist at run time.
                for node in iter_descendants(statement.body):
                    if isinstance(node, (cst.Import, cst.ImportFrom)):
                        for local, _ in import_bindings(node):
                            self.bind(local, LOCAL)
                if statement.orelse is not None:
                    pending.extend(reversed(list(_nested_statements(statement.orelse))))
            elif isinstance(statement, _MODULE_LEVEL_BLOCKS):
                pending.extend(reversed(list(_nested_statements(statement))))


_MODULE_LEVEL_BLOCKS = (
    cst.If,
    cst.Try,
    cst.TryStar,
    cst.With,
    cst.For,
    cst.While,
    cst.Else,
    cst.Finally,
    cst.ExceptHandler,
    cst.ExceptStarHandler,
)


def _is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _nested_statements(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Statements directly inside a module-level compound statement."""
    for child in iter_children(node):
        if isinstance(child, (cst.IndentedBlock, cst.SimpleStatementSuite)):
            yield from child.body
        elif isinstance(child, (cst.Else, cst.Finally, cst.ExceptHandler, cst.ExceptStarHandler, cst.If)):
            yield child
