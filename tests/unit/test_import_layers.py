"""The package's import graph: no cycle between modules, and the demo generator a separate
wing that product code never imports (issue 15). Every import counts, also one inside a
function: a cycle hidden in a function is still a knot a reader has to untie.

Read from the source with `ast` (no import is executed)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "rsoko_pipelines"
# the composition roots may import anything: they wire the wings together
ROOTS = {"rsoko_pipelines.cli", "rsoko_pipelines.definitions"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and target.startswith("rsoko_pipelines"):
                    graph[name].add(target)
    # `from rsoko_pipelines.ingest import quarantine` names the module, not the package
    for name in graph:
        graph[name] = {t for t in graph[name]
                       if not (t in modules and modules[t].name == "__init__.py"
                               and any(u.startswith(t + ".") for u in graph[name]))}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle_inside_the_package():
    assert cycles(import_graph()) == []


def test_product_code_never_imports_the_demo_generator():
    graph = import_graph()
    offenders = {m: sorted(t for t in targets if t.startswith("rsoko_pipelines.demo"))
                 for m, targets in graph.items()
                 if not m.startswith("rsoko_pipelines.demo") and m not in ROOTS}
    assert {m: t for m, t in offenders.items() if t} == {}


def test_the_checker_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
