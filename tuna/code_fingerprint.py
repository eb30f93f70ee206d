"""The tuna code a command runs, as one hash: how the workflow knows a job's code changed.

Snakemake re-runs a job when its inputs or params change, not when the Python it calls
does. Each rule therefore carries the fingerprint of its `tuna` command as a param: the
modules reachable from the command's function, followed through every import (module
level and inside functions) within the `tuna` package. Within the command's own CLI
module only the function, its decorators and the module-level names it uses count, so
two commands of one CLI module do not share each other's code.

A module enters the hash as its syntax tree without its documentation (docstrings, a config
field's attribute docstring, an option's help text), so an edit of a comment or of
documentation changes nothing, while any change to code does. Package `__init__`
modules on the way count too (they run on import), except `tuna.cli`'s, which only
gathers the commands. Only source code is hashed, read from the files without importing
them (fast enough to run once per Snakemake invocation: about 0.1 s for every command).
"""

from __future__ import annotations

import ast
import hashlib
from functools import cache
from pathlib import Path

from tuna.errors import TunaError

PACKAGE = Path(__file__).resolve().parent
CLI = "tuna.cli"
HELP = ("help", "short_help")  # what a command or option says of itself in --help: documentation


@cache
def _module_files() -> dict[str, Path]:
    """Every tuna module name -> its source file."""
    files = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return files


def _undocumented(tree: ast.Module) -> ast.Module:
    """`tree` without what documents the code and runs nothing: every statement that is a bare
    string (the docstrings of modules, classes and functions, and a config field's attribute
    docstring, its documentation and its option's help) and the help texts of commands and options."""
    for node in ast.walk(tree):
        for name in ("body", "orelse", "finalbody"):
            statements = getattr(node, name, None)
            if isinstance(statements, list) and statements and isinstance(statements[0], ast.stmt):
                setattr(node, name, [s for s in statements if not _is_text(s)] or [ast.Pass()])
        if isinstance(node, ast.Call):
            node.keywords = [keyword for keyword in node.keywords if keyword.arg not in HELP]
        elif isinstance(node, ast.Dict):
            items = [(k, v) for k, v in zip(node.keys, node.values, strict=True) if not _is_help_key(k)]
            node.keys, node.values = [k for k, _ in items], [v for _, v in items]
    return tree


def _is_text(statement: ast.stmt) -> bool:
    return (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str))


def _is_help_key(key: ast.expr | None) -> bool:
    return isinstance(key, ast.Constant) and key.value in HELP


@cache
def _tree(module: str) -> ast.Module:
    """The module's syntax tree without its documentation (so editing it changes no fingerprint)."""
    return _undocumented(ast.parse(_module_files()[module].read_text(encoding="utf-8")))


def _dump(node: ast.AST) -> str:
    return ast.dump(node, annotate_fields=False, include_attributes=False)


@cache
def _reexports(package: str) -> dict[str, str]:
    """Names a package's `__init__` imports from its modules: name -> the module defining it."""
    found = {}
    for node in _tree(package).body:
        if isinstance(node, ast.ImportFrom) and node.module in _module_files():
            found.update({alias.asname or alias.name: node.module for alias in node.names})
    return found


def _imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    """The tuna modules whose code an (absolute) import statement brings in: `from package import
    submodule` the submodule, `from package import name` the module the package re-exports the
    name from (or the package itself, where it defines it), `from module import name` the module."""
    known = _module_files()
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name in known]
    base, found = node.module or "", []
    for alias in node.names:
        if f"{base}.{alias.name}" in known:
            found.append(f"{base}.{alias.name}")
        elif base in known:
            found.append(_reexports(base).get(alias.name, base) if _is_package(base) else base)
    return found


def _is_package(module: str) -> bool:
    return _module_files()[module].name == "__init__.py"


def _parents(module: str) -> list[str]:
    """The package `__init__` modules Python runs to import `module` (not tuna.cli's, which gathers the commands)."""
    parts = module.split(".")
    return [name for name in (".".join(parts[:i]) for i in range(1, len(parts))) if name != CLI]


@cache
def _imports_of(module: str) -> list[str]:
    """The tuna modules any import statement of `module` brings in (module level or in a function)."""
    return [imported for node in ast.walk(_tree(module)) if isinstance(node, (ast.Import, ast.ImportFrom))
            for imported in _imported(node)]


@cache
def _module_dump(module: str) -> bytes:
    return f"\0{module}\0{_dump(_tree(module))}".encode()


def _closure(modules: set[str]) -> set[str]:
    """`modules` and every tuna module they import, transitively, with their parent packages.

    A parent package counts with its own code, but what it imports does not unless the
    command uses the package itself (a command importing tuna.config.settings does not run
    tuna.config.plan)."""
    used, todo = set(), list(modules)
    while todo:
        module = todo.pop()
        if module in used:
            continue
        used.add(module)
        todo += _imports_of(module)
    return used | {parent for module in used for parent in _parents(module)}


@cache
def _commands() -> dict[str, tuple[str, ast.FunctionDef]]:
    """Command name -> (CLI module, its function), found in the source of tuna/cli/."""
    found = {}
    for module in _module_files():
        if not module.startswith(CLI + "."):
            continue
        for node in _tree(module).body:
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                if (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
                        and decorator.func.attr == "command"):
                    name = (decorator.args[0].value if decorator.args and isinstance(decorator.args[0], ast.Constant)
                            else node.name.replace("_", "-"))
                    found[name] = (module, node)
    return found


def _function_code(cli_module: str, function: ast.FunctionDef) -> tuple[set[str], list[ast.AST]]:
    """What a CLI function runs: the tuna modules it imports (in its body, or through the
    module-level imports of its CLI module that it uses), and its own definition with every
    module-level definition of its CLI module it uses, directly or through another."""
    tree = _tree(cli_module)
    imports: dict[str, list[str]] = {}
    definitions: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                local = (alias.asname or alias.name).split(".")[0]
                imports[local] = _imported(ast.ImportFrom(module=node.module, names=[alias], level=0)
                                           if isinstance(node, ast.ImportFrom) else node)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            definitions[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(target, ast.Name):
                    definitions[target.id] = node
    modules, used, todo = set(), [function], [function]
    while todo:
        for child in ast.walk(todo.pop()):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                modules.update(_imported(child))
            elif isinstance(child, ast.Name):
                modules.update(imports.get(child.id, ()))
                if child.id in definitions and definitions[child.id] not in used:
                    used.append(definitions[child.id])
                    todo.append(definitions[child.id])
    return modules, used


@cache
def fingerprint(command: str) -> str:
    """sha256 (first 16 hex digits) of the code `tuna COMMAND` runs, docstrings and comments aside."""
    if command not in _commands():
        raise TunaError(f"no tuna command '{command}' (known: {', '.join(sorted(_commands()))})")
    modules, definitions = _function_code(*_commands()[command])
    digest = hashlib.sha256()
    for definition in definitions:
        digest.update(_dump(definition).encode())
    for module in sorted(_closure(modules)):
        digest.update(_module_dump(module))
    return digest.hexdigest()[:16]


def modules_of(command: str) -> list[str]:
    """The tuna modules whose whole code enters `command`'s fingerprint."""
    return sorted(_closure(_function_code(*_commands()[command])[0]))
