"""The package's imports, read from its source with :mod:`ast` (shared by the layering and architecture tests).

Lazy imports inside functions count as much as those at the top of a file (they run too, only
later). An import statement makes edges to every module it runs, resolved to the modules that exist:

* ``import a.b.c`` runs ``a``, ``a.b`` and ``a.b.c``;
* ``from a.b import c`` runs ``a.b``, and ``a.b.c`` too when ``c`` is a submodule, not a name;
* ``from . import c`` and ``from ..x import y`` are resolved against the importing module's package.

A module's own enclosing packages are left out of its edges: Python has run them before the
module, so an edge back to them says nothing about order. A package's ``__init__`` importing its
submodules does count.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import tui_transformer

ROOT = Path(tui_transformer.__file__).parent
PACKAGE = ROOT.name


@dataclass(frozen=True)
class Import:
    """One import statement: where it is, and the dotted names it asks for (absolute, not yet resolved)."""

    line: int
    names: tuple[str, ...]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def package_modules() -> dict[str, Path]:
    """Every module of the package, by dotted name (a package by its ``__init__.py``)."""
    return {module_name(path): path for path in sorted(ROOT.rglob("*.py")) if "__pycache__" not in path.parts}


def imports(module: str) -> list[Import]:
    """Every import statement of ``module``, at any depth (lazy ones included)."""
    path = package_modules()[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.append(Import(node.lineno, tuple(alias.name for alias in node.names)))
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # from . import x, from ..y import z
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            found.append(Import(node.lineno, (source, *(f"{source}.{alias.name}" for alias in node.names))))
    return found


def modules_run_by(name: str) -> set[str]:
    """The package's modules that importing the dotted ``name`` runs: it (or the module holding it) and its parents."""
    known = package_modules()
    parts = name.split(".")
    return {".".join(parts[:n]) for n in range(1, len(parts) + 1)} & known.keys()


@cache
def import_graph() -> dict[str, dict[str, int]]:
    """``graph[a][b] = line``: module ``a`` imports module ``b`` (first at that line of ``a``)."""
    graph: dict[str, dict[str, int]] = {}
    for module in package_modules():
        edges = graph.setdefault(module, {})
        for statement in imports(module):
            for name in statement.names:
                for target in modules_run_by(name):
                    if target != module and not module.startswith(target + "."):
                        edges.setdefault(target, statement.line)
    return graph
