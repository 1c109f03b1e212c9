"""No import cycles between backend modules, nor between backend's packages.

The graph is built from the source, not by importing: an edge for every import statement of a
module, wherever it stands. Imports inside functions count too: a lazy import keeps start-up
cheap, but the two modules still need each other, which is the knot this test is here to
prevent. Only imports under ``if TYPE_CHECKING:`` are left out (they never run).
``from pkg import name`` points at ``pkg.name`` when that is a module, else at ``pkg``.
A cycle is reported as the chain of modules (or packages) that closes it.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "backend"


@functools.cache
def module_files() -> dict[str, Path]:
    """Every module of the package by dotted name (``pkg/__init__.py`` is ``pkg``)."""
    out: dict[str, Path] = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement in ``body`` and below it, except under ``if TYPE_CHECKING:``."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            found += _imports(node.orelse)
            continue
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                found += _imports([child])
            elif isinstance(child, ast.excepthandler):
                found += _imports(child.body)
    return found


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        here = name.split(".") if is_package else name.split(".")[:-1]
        edges: set[str] = set()
        for node in _imports(ast.parse(path.read_text(encoding="utf-8")).body):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    base = here[:len(here) - (node.level - 1)]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                targets = [f"{source}.{a.name}" if f"{source}.{a.name}" in modules else source for a in node.names]
            edges |= {t for t in targets if t in modules and t != name}
        graph[name] = edges
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected group of modules (Tarjan), as a closed chain."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_chain(graph, set(g)) for g in groups]


def _chain(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """A path inside ``group`` from its first module back to itself (breadth-first, shortest)."""
    start = min(group)
    previous: dict[str, str] = {}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v] & group):
            if w == start:
                path = [v]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [start, *reversed(path[:-1]), start] if v != start else [start, start]
            if w not in previous:
                previous[w] = v
                queue.append(w)
    return sorted(group)


def test_the_cycle_finder_sees_a_cycle_and_its_chain() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_reads_relative_lazy_and_package_imports() -> None:
    graph = import_graph(module_files())
    assert "backend.errors" in graph["backend.transcripts.model"]  # from ..errors import GsvError
    assert "backend.transcripts.listfile" in graph["backend.transcripts.model"]
    assert "backend.asr" in graph["backend.stages.asr"]  # inside run(): from ..asr import make_engine
    assert "backend.cli.jobs" in graph["backend.cli"]  # from . import doctor, g2p, jobs, …
    assert "backend.listen.server" not in graph["backend.listen.routes"]  # only under TYPE_CHECKING


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The same edges between backend's top-level packages (and top-level modules)."""
    def top(module: str) -> str:
        return ".".join(module.split(".")[:2])

    out: dict[str, set[str]] = {top(m): set() for m in graph}
    for source, targets in graph.items():
        out[top(source)] |= {top(t) for t in targets if top(t) != top(source) and top(t) != PACKAGE}
    return out


def test_no_import_cycles_between_backend_modules() -> None:
    cycles = find_cycles(import_graph(module_files()))
    assert not cycles, "import cycles:\n" + "\n".join(" → ".join(c) for c in cycles)


def test_no_import_cycles_between_backend_packages() -> None:
    cycles = find_cycles(package_graph(import_graph(module_files())))
    assert not cycles, "import cycles between packages:\n" + "\n".join(" → ".join(c) for c in cycles)
