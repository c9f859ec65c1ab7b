"""The package's shape, checked from its source: its imports run one way, and the model's forward
pass is maths only. (That the core never needs the dashboard is tests/test_layering.py.)

How imports are read, lazy ones included, is in tests/module_graph.py.
"""

from __future__ import annotations

import ast
from collections import deque

from tests.module_graph import PACKAGE, import_graph, package_modules

MATHS_ONLY = ("transformer", "block", "multi_head", "attention")  # model/<name>.py: one forward pass
INSTRUMENTATION = ("record", "inspect", "profil")


# ---- cycles --------------------------------------------------------------------------------------

def strongly_connected(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Tarjan's algorithm: the groups of modules that all reach each other (those of two or more are cycles)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while not group or group[-1] != node:
                group.append(stack.pop())
            groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def shortest_cycle(graph: dict[str, dict[str, int]], group: list[str]) -> list[str]:
    """A shortest path from the group's first module back to itself, inside the group (breadth first)."""
    start, members = group[0], set(group)
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in sorted(graph[node]):
            if target == start:  # walk back from the last step of the way round
                path = [start, node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return path[::-1]
            if target in members and target not in came_from:
                came_from[target] = node
                queue.append(target)
    raise AssertionError(f"{group} is not a cycle")


def describe(graph: dict[str, dict[str, int]], cycle: list[str]) -> str:
    def short(module: str) -> str:
        return module.removeprefix(PACKAGE + ".")

    return "\n".join(f"  {short(a)} (line {graph[a][b]}) -> {short(b)}" for a, b in zip(cycle, cycle[1:]))


def test_the_import_walker_sees_lazy_relative_and_submodule_imports():
    graph = import_graph()
    # a lazy import inside a function: the dashboard command starts the app only when run
    assert f"{PACKAGE}.tui.app" in graph[f"{PACKAGE}.commands.dashboard"]
    # a package's __init__ runs its submodules; `from pkg import module` reaches the module itself
    assert f"{PACKAGE}.model.transformer" in graph[f"{PACKAGE}.model"]
    assert f"{PACKAGE}.tui.learn.attention" in graph[f"{PACKAGE}.tui.learn.registry"]
    # importing a.b.c runs a.b: an edge to every package on the way (not to the importer's own)
    assert f"{PACKAGE}.model" in graph[f"{PACKAGE}.tui.learn.context"]
    assert PACKAGE not in graph[f"{PACKAGE}.model.transformer"]


def test_the_cycle_finder_names_a_cycle():
    graph = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3, "d": 4}, "d": {}}
    groups = [group for group in strongly_connected(graph) if len(group) > 1]
    assert groups == [["a", "b", "c"]]
    assert shortest_cycle(graph, groups[0]) == ["a", "b", "c", "a"]
    assert describe(graph, ["a", "b", "c", "a"]).splitlines()[2] == "  c (line 3) -> a"


def test_the_package_has_no_import_cycle():
    graph = import_graph()
    groups = [group for group in strongly_connected(graph) if len(group) > 1]
    report = [f"{' <-> '.join(group)}, for example (the import is at that line of the module on the left):\n"
              + describe(graph, shortest_cycle(graph, group)) for group in groups]
    assert not groups, "modules that import each other in a circle:\n" + "\n\n".join(report)


# ---- packages -------------------------------------------------------------------------------------

def unit(module: str) -> str:
    """The unit a module belongs to: its top-level package (``model.tools`` counted apart from ``model``),
    or a top-level module itself."""
    parts = module.removeprefix(PACKAGE + ".").split(".")
    if parts[:2] == ["model", "tools"]:
        return "model.tools"
    return parts[0]


def test_no_two_packages_import_each_other():
    """A package back-arrow (``train`` -> ``interop`` -> ``train``) is a cycle one level up, even when
    the modules themselves form none: the two packages can no longer be read, or layered, apart."""
    graph = import_graph()
    arrows: dict[tuple[str, str], str] = {}
    for source, targets in graph.items():
        for target in targets:
            if target != PACKAGE and unit(source) != unit(target):
                arrows.setdefault((unit(source), unit(target)), f"{source} -> {target}")
    both_ways = sorted(f"{a} <-> {b}: {arrows[a, b]}, and {arrows[b, a]}" for a, b in arrows if (b, a) in arrows and a < b)
    assert not both_ways, "packages that import each other:\n" + "\n".join(both_ways)


def test_the_model_as_taught_never_imports_its_tools():
    graph = import_graph()
    offences = [f"{source} -> {target}" for source, targets in graph.items() for target in targets
                if unit(source) == "model" and unit(target) == "model.tools"]
    assert not offences, "the teaching path imports model.tools:\n" + "\n".join(offences)


# ---- one forward pass is maths only ----------------------------------------------------------------

def identifiers(tree: ast.AST) -> set[str]:
    """Every name a file defines, uses or imports (not its comments and docstrings)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.alias):
            names.update(filter(None, (*node.name.split("."), node.asname)))
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.update(node.module.split("."))
    return names


def test_the_forward_pass_carries_no_instrumentation():
    offences = []
    for name in MATHS_ONLY:
        module = f"{PACKAGE}.model.{name}"
        tree = ast.parse(package_modules()[module].read_text(encoding="utf-8"))
        found = sorted(word for word in identifiers(tree) if any(bad in word.lower() for bad in INSTRUMENTATION))
        if found:
            offences.append(f"model/{name}.py: {', '.join(found)}")
    assert not offences, "recording, inspection or profiling code in the model's maths:\n" + "\n".join(offences)
