"""What a name means here: the scoped import table, resolution, configured names.

The base of the recognisers (:mod:`.atomic`, :mod:`.enqueues`): it owns the
module's name table (:mod:`.names`), turns relative imports into absolute
names, matches configured dotted names, and asks the project index about
names imported from the project's other modules.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import TYPE_CHECKING

import libcst as cst

from . import libraries as lib
from .config import Config, matches_dotted
from .names import (
    LOCAL,
    Binding,
    LocalFunction,
    NameTable,
    TaskDef,
    absolute_name,
    dotted_name,
    import_bindings,
    import_module_name,
    is_informative,
)
from .queues import LIBRARIES, Kind
from .summaries import FunctionSummary
from .walk import string_value as string_value

if TYPE_CHECKING:
    from .index import ProjectIndex


class Resolver:
    """Answers "what does this name mean?" with the names of the module in view."""

    def __init__(
        self,
        config: Config,
        module: cst.Module,
        filename: str = "<string>",
        *,
        module_name: str | None = None,
        index: ProjectIndex | None = None,
    ) -> None:
        self.config = config
        self.module = module
        self.names = NameTable({}, [])
        #: the queue libraries this module imports (some spellings count only then)
        self.imported: set[Kind] = set()
        self.module_names = module_names(filename)
        #: this file's dotted name, to turn relative imports into absolute names
        self.module_name = module_name
        self.is_package = PurePath(filename).stem == "__init__"
        self.index = index

    def _ask_index(self, found: Binding | None) -> ProjectIndex | None:
        """The index, when ``found`` names something of another project module."""
        if self.index is None or not isinstance(found, str) or "." not in found:
            return None
        if found.split(".", 1)[0] in lib.NOT_PROJECT_PACKAGES or found in _KNOWN_NAMES:
            return None
        return self.index

    def project_function(self, found: Binding | None, need: str = "") -> FunctionSummary | None:
        """What the project index knows about an imported function (None: nothing).

        ``need`` names the one field the caller reads (``"deferrer"``, ``"task"``, ``"wrapper"``),
        which lets the index skip modules that cannot set it (see :meth:`.ProjectIndex.function`).
        """
        index = self._ask_index(found)
        return index.function(found, need) if index is not None and isinstance(found, str) else None

    def project_own_queue(self, qualified: str) -> bool:
        """Whether the project index knows ``qualified`` as a task decorator of the project's own queue."""
        index = self._ask_index(qualified)
        return index is not None and index.own_queue(qualified)

    def project_commit_aware_task_base(self, qualified: str) -> bool:
        """Whether the project index knows ``qualified`` as a commit-aware Task class of another module."""
        index = self._ask_index(qualified)
        return index is not None and index.commit_aware_task_base(qualified)

    def project_view_class(self, qualified: str) -> bool:
        """Whether the project index knows ``qualified`` as a view class of another module."""
        index = self._ask_index(qualified)
        return index is not None and index.view_class(qualified)

    def project_non_atomic_view(self, qualified: str) -> bool:
        """Whether the project index knows ``qualified`` as a class of another module whose views
        run outside ATOMIC_REQUESTS."""
        index = self._ask_index(qualified)
        return index is not None and index.non_atomic_view(qualified)

    def is_configured(self, found: Binding | None, configured: frozenset[str]) -> bool:
        """Whether a resolved name is one of the configured dotted names.

        A function defined in this very module matches through the module's
        own dotted name, guessed from the file path (``myapp/tasks.py``
        defines ``myapp.tasks.offload_task``).
        """
        if not configured or found is None:
            return False
        if isinstance(found, str):
            return matches_dotted(found, configured)
        if isinstance(found, LocalFunction):
            name = found.node.name.value
        elif isinstance(found, TaskDef):
            name = found.name
        else:
            return False
        return any(f"{module}.{name}" in configured for module in self.module_names)

    def bind(self, name: str, binding: Binding) -> None:
        scope = self.names.innermost
        if scope.kind == "module":
            # Module level was bound up front; later plain assignments never
            # erase what an import or a decorated def told us.
            existing = scope.bindings.get(name)
            if existing is not None and is_informative(existing) and not is_informative(binding):
                return
        scope.bindings[name] = binding

    def bind_target(self, target: cst.BaseExpression, binding: Binding) -> None:
        if isinstance(target, cst.Name):
            self.bind(target.value, binding)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self.bind_target(element.value, LOCAL)
        elif isinstance(target, cst.StarredElement):
            self.bind_target(target.value, LOCAL)

    def bind_import(self, node: cst.Import | cst.ImportFrom) -> None:
        if isinstance(node, cst.ImportFrom):
            module = import_module_name(node)
            self._note_library(module)
            if isinstance(node.names, cst.ImportStar):
                self.names.star_modules.append(module)
                return
        else:
            for alias in node.names:
                self._note_library(dotted_name(alias.name) or "")
        for local, qualified in import_bindings(node):
            if qualified.startswith(".") and self.module_name:
                qualified = absolute_name(qualified, self.module_name, self.is_package)
            self.bind(local, qualified)

    def _note_library(self, module: str) -> None:
        kind = _LIBRARY_OF_PACKAGE.get(module.split(".", 1)[0])
        if kind is not None:
            self.imported.add(kind)

    def project_module_unknown(self, qualified: str) -> bool:
        """Whether the project index has no module for ``qualified`` (a third-party name, say)."""
        index = self._ask_index(qualified)
        return index is None or index.module(qualified.rsplit(".", 1)[0]) is None

    def is_type_checking(self, test: cst.BaseExpression) -> bool:
        """``TYPE_CHECKING`` (any spelling): the code under it never runs."""
        return (self.qualified(test) or "").rsplit(".", 1)[-1] == "TYPE_CHECKING"

    def resolve(self, node: cst.BaseExpression) -> Binding | None:
        """What a Name/Attribute chain refers to.

        A qualified name (str) for imports and for names nothing in the file
        binds (builtins, globals from star imports); a tracked object; or
        None when it is something the analysis cannot follow.
        """
        if isinstance(node, cst.Name):
            found = self.names.lookup(node.value)
            if found is not None:
                return found
            for module in self.names.star_modules:
                candidate = f"{module}.{node.value}"
                if _is_known_name(candidate):
                    return candidate
            # Nothing in the file binds it: a snippet or an unusual import.
            # ``transaction`` then can only be Django's.
            return lib.UNBOUND_NAMES.get(node.value, node.value)
        if isinstance(node, cst.Attribute):
            base = self.resolve(node.value)
            if isinstance(base, str):
                return f"{base}.{node.attr.value}"
            return None
        return None

    def qualified(self, node: cst.BaseExpression) -> str | None:
        found = self.resolve(node)
        return found if isinstance(found, str) else None


def module_names(filename: str) -> tuple[str, ...]:
    """Dotted names this file may be imported as: ``a/b/c.py`` -> ``c``, ``b.c``, ``a.b.c``."""
    path = PurePath(filename)
    parts = [*path.parts[:-1], path.stem]
    if parts and parts[-1] == "__init__":
        parts.pop()
    parts = [part for part in parts if part.isidentifier()]
    return tuple(".".join(parts[index:]) for index in range(len(parts) - 1, -1, -1))


def argument(call: cst.Call, keyword: str, position: int) -> cst.Arg | None:
    """The argument a parameter receives: by keyword, or at ``position``."""
    positional = []
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg
        if arg.keyword is None:
            if arg.star:
                return None  # ``*args``: cannot tell
            positional.append(arg)
    return positional[position] if len(positional) > position else None


def using_argument(call: cst.Call) -> cst.BaseExpression | None:
    """``using`` of ``atomic(using=None, savepoint=True, durable=False)``."""
    found = argument(call, "using", 0)
    return found.value if found is not None else None


def alias_text(module: cst.Module, node: cst.BaseExpression | None) -> str | None:
    """A database alias as comparable text: a literal's value, or the expression's code.

    ``None`` (the expression) and ``DEFAULT_DB_ALIAS`` mean the default database.
    """
    if node is None:
        return DEFAULT_ALIAS
    literal = string_value(node)
    if literal is not None:
        return literal
    if isinstance(node, cst.Name) and node.value == "None":
        return DEFAULT_ALIAS
    code = dotted_name(node)
    if code is not None and code.rsplit(".", 1)[-1] == "DEFAULT_DB_ALIAS":
        return DEFAULT_ALIAS
    return "`" + module.code_for_node(node).strip() + "`"


def is_literal_alias(text: str | None) -> bool:
    return text is not None and not text.startswith("`")


def describe_callee(node: cst.BaseExpression, depth: int = 0) -> str:
    """A short name for a called expression in messages: ``send_email.delay``."""
    name = dotted_name(node)
    if name is not None:
        return name
    if depth > 2:
        return "..."
    if isinstance(node, cst.Attribute):
        return f"{describe_callee(node.value, depth + 1)}.{node.attr.value}"
    if isinstance(node, cst.Call):
        return f"{describe_callee(node.func, depth + 1)}(...)"
    return "(...)"


_KNOWN_NAMES: frozenset[str] = (
    frozenset(lib.UNBOUND_NAMES.values())
    | lib.ATOMIC
    | lib.ON_COMMIT_FUNCTIONS
    | lib.METHOD_DECORATOR
    | lib.NON_ATOMIC_REQUESTS
    | lib.DEFAULT_CONNECTIONS
    | frozenset(
        name
        for library in LIBRARIES
        for table in (
            library.send_functions,
            library.composite_constructors,
            library.signature_constructors,
            library.runnables,
            library.task_decorators,
            library.app_classes,
            library.app_instances,
            library.schedulers,
        )
        for name in table
    )
)
_SEND_FUNCTION_NAMES = frozenset(name for library in LIBRARIES for name in library.send_function_names)
_LIBRARY_OF_PACKAGE = {package: library.kind for library in LIBRARIES for package in library.packages}


def _is_known_name(qualified: str) -> bool:
    """Whether a star import could have provided a name the analysis cares about."""
    if qualified in _KNOWN_NAMES:
        return True
    return qualified.rsplit(".", 1)[-1] in _SEND_FUNCTION_NAMES


#: The alias of a registration that names no database.
DEFAULT_ALIAS = "default"
