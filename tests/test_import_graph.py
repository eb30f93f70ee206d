"""tuna's import graph has no cycle: between modules, nor between its subpackages.

The graph is read from the source with `ast`: every import of a tuna module, at module
level or inside a function, is an edge to the module it names (`from tuna.x import y`
names `tuna.x.y` when that is a module, else `tuna.x`). A cycle means two modules (or
packages) cannot be understood, tested or changed one without the other.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "tuna"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(node: ast.AST, module: str, is_package: bool, modules: set[str]) -> list[str]:
    """The tuna modules an import statement names (relative imports resolved)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            anchor = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
            base = ".".join([*anchor, base] if base else anchor)
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
    else:
        return []
    found = []
    for name in names:
        while name and name not in modules:  # `import tuna.x.y.Class` style names end at their module
            name = name.rpartition(".")[0]
        if name.startswith("tuna") and name != module:
            found.append(name)
    return found


def import_graph() -> dict[str, set[str]]:
    """module -> the tuna modules it imports."""
    files = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {module: set() for module in files}
    for module, path in files.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            graph[module].update(imported(node, module, path.name == "__init__.py", set(files)))
    return graph


def package_of(module: str) -> str:
    """`tuna.train.loss` -> `tuna.train`; a top-level module is its own package."""
    return ".".join(module.split(".")[:2])


def cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of the graph (`[a, b, ..., a]`), or [] if it has none."""
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as exc:
        return list(reversed(exc.args[1]))
    return []


def test_the_graph_sees_function_level_and_package_imports_and_cycles():
    graph = import_graph()
    assert "tuna.ranking.sampling" in graph["tuna.stages"]  # imported inside a function
    assert "tuna.config.plan" in graph["tuna.config"]  # by a package's __init__
    assert set(cycle({**graph, "tuna.errors": {"tuna.stages"}})) == {"tuna.stages", "tuna.errors"}  # it would see one


def test_no_cycle_between_modules():
    assert cycle(import_graph()) == []


def test_no_cycle_between_packages():
    packages: dict[str, set[str]] = {}
    for module, targets in import_graph().items():
        packages.setdefault(package_of(module), set()).update(
            package_of(t) for t in targets if package_of(t) != package_of(module))
    assert cycle(packages) == []
