"""The package's layering, checked from its source with ``ast``.

One sentence: read/decode -> pre-check -> parse -> context -> rules -> fix
-> verify -> write -> report, with the library tables and the rule
catalogue at the bottom. A module imports only from its own layer or the
layers below (imports under ``if TYPE_CHECKING:`` are for type checkers and
do not count), the import graph has no cycle, and no module of the package
assigns attributes of another (no patching at import or run time).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "flake8_oncommit"

#: Layer of every module, bottom first. A new module must be placed here.
LAYERS: dict[str, int] = {}
for _layer, _names in enumerate(
    [
        # 0: data: the tables, the catalogue, what summaries and findings are
        "version rules libraries summaries guards errors effects queues queues.base queues.celery "
        "queues.django_q queues.django_tasks queues.dramatiq queues.flagsmith_task_processor queues.huey "
        "queues.post_request_task queues.procrastinate queues.rq",
        # 1: reading, decoding and the basic types
        "files source walk positions noqa patterns config exclusion names findings terminal modules "
        "guard_reading",
        # 2: the pre-check, parsing, the project and its settings
        "precheck slicing parsing index cache scan settings_values settings_scan",
        # 3: the analysis context: recognisers and the walk
        "resolution model_signals atomic enqueues side_effects recognize views planning where callgraph "
        "context deferral",
        # 4: the rules
        "checks checks.base checks.called_enqueue checks.enqueue_in_block checks.helper_chain "
        "checks.late_binding checks.no_effect checks.settings checks.wrong_database checks.side_effect "
        "checks.mail checks.cache checks.http",
        # 5: one module's analysis, the fix and its verification
        "analysis engine imports fix project",
        # 6: writing and reporting, the front ends, the test-suite guard
        "output summary add_noqa explain cli plugin options __init__ __main__ "
        "runtime runtime.send_points runtime.patching runtime.transactions runtime.report runtime.guard "
        "runtime.pytest_plugin runtime.runner",
    ]
):
    for _name in _names.split():
        LAYERS[_name] = _layer


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str, path: Path) -> list[tuple[str, int]]:
    """Package modules ``module`` imports at run time, with the line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = (
        module.split(".") if path.name == "__init__.py" and module != "__init__" else module.split(".")[:-1]
    )
    if module == "__init__":
        package = []
    found = []
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            pending.extend(node.orelse)
            continue
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
            target = ".".join([*base, node.module] if node.module else base)
            names = [target] if node.module else [".".join([*base, alias.name]) for alias in node.names]
            for name in names:
                found.append((name or "__init__", node.lineno))
        elif isinstance(node, (ast.Import, ast.ImportFrom)) and not getattr(node, "level", 0):
            for alias in node.names:
                full = alias.name if isinstance(node, ast.Import) else node.module or ""
                if full.startswith("flake8_oncommit"):
                    rest = full.split(".", 1)[1] if "." in full else "__init__"
                    found.append((rest, node.lineno))
        pending.extend(ast.iter_child_nodes(node))
    return [(name, line) for name, line in found if name in _modules() or name == "__init__"]


MODULES = _modules()

#: Known violations (none: the index has one owner, the engine is handed to
#: it as its summariser, and the settings scan parses without the engine).
KNOWN: set[tuple[str, str]] = set()


def test_every_module_has_a_layer() -> None:
    missing = sorted(set(MODULES) - set(LAYERS))
    assert not missing, f"place these modules in tests/test_layers.py LAYERS: {missing}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_from_a_layer_above(module: str) -> None:
    layer = LAYERS.get(module, 99)
    for target, line in _imports(module, MODULES[module]):
        if (module, target) in KNOWN:
            continue
        assert LAYERS.get(target, 99) <= layer, (
            f"{module} (layer {layer}) imports {target} (layer {LAYERS.get(target)}) at line {line}"
        )


def test_no_import_cycle() -> None:
    graph = {
        module: {target for target, _ in _imports(module, path)} - {module}
        for module, path in MODULES.items()
    }
    # Submodules of a package import through it; the package's own __init__ re-exports them.
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if target.startswith(f"{module}.") or module.startswith(f"{target}."):
                continue  # a package and its own submodules
            if state.get(target) == 1:
                cycle = [*stack[stack.index(target) :], target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if state.get(target) is None:
                visit(target)
        stack.pop()
        state[module] = 2

    for module in sorted(graph):
        if state.get(module) is None:
            visit(module)


def test_layers_are_few() -> None:
    assert max(LAYERS.values()) + 1 <= 7


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_patches_another(module: str) -> None:
    """``other.attribute = value`` on a name imported from the package is patching: not allowed."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (
            node.level or (node.module or "").startswith("flake8_oncommit")
        ):
            imported |= {alias.asname or alias.name for alias in node.names}
    for node in ast.walk(tree):
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AugAssign)
            else []
        )
        for target in targets:
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
                if (module, target.value.id) in KNOWN:
                    continue
                assert target.value.id not in imported, (
                    f"{module}:{node.lineno} assigns {target.value.id}.{target.attr}, a name of the package"
                )
