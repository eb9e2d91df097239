"""The layers (issue 19): an import goes to a module of its own layer or a lower one, never up.

Each module's layer is its package path (``LAYERS``, lowest first; the longest path that holds a module wins). Every
import counts — at the top of a module or inside a function — except those under ``if TYPE_CHECKING:``, which only
annotate. A module that sits in no layer fails too (say where it belongs), and so does an import cycle between
modules at load time (a lazy import inside a function is how one module may reach back within its layer).
"""

from __future__ import annotations

import ast
from pathlib import Path

from .conftest import PROJECT_ROOT

ROOTS = ("simulation", "reports")
LAYERS = (  # lowest first: (layer, package)
    ("core", "simulation.core"),
    ("book", "simulation.book"),
    ("mechanisms", "simulation.mechanisms"),
    ("scenario", "simulation.scenario"),
    ("model", "simulation.model"),
    ("data", "simulation.data"),
    ("runs", "simulation.runs"),
    ("analysis", "simulation.analysis"),
    ("reports", "reports"),
    ("commands", "reports.commands"),
)
TOP = {"simulation": "core"}  # the package itself (its __version__) is the core's


def modules() -> dict[str, Path]:
    """Every module of simulation/ and reports/: its dotted name → its file."""
    found = {}
    for root in ROOTS:
        for path in sorted((PROJECT_ROOT / root).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def layer_of(module: str) -> int | None:
    """The layer's rank (0 lowest), or None for a module in no layer."""
    if module in TOP:
        return [name for name, _ in LAYERS].index(TOP[module])
    best = None
    for rank, (_, package) in enumerate(LAYERS):
        if (module == package or module.startswith(package + ".")) and (best is None or len(package) > len(LAYERS[best][1])):
            best = rank
    return best


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports(module: str, path: Path, known: dict[str, Path]) -> list[tuple[int, str, bool]]:
    """(line, imported module, at load time?) for each project import of ``module``, ``TYPE_CHECKING`` ones left out."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str, bool]] = []

    def target(name: str) -> str | None:
        parts = name.split(".")
        if parts[0] not in ROOTS:
            return None
        while parts and ".".join(parts) not in known:
            parts.pop()
        return ".".join(parts) or None

    def visit(node: ast.AST, at_load: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                for other in child.orelse:
                    visit_one(other, at_load)
                continue
            visit_one(child, at_load)

    def visit_one(node: ast.AST, at_load: bool) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                name = target(alias.name)
                if name:
                    found.append((node.lineno, name, at_load))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, node.module] if node.module else parts)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                name = full if full in known else target(base)
                if name:
                    found.append((node.lineno, name, at_load))
        else:
            visit(node, at_load and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(ast.parse(path.read_text(encoding="utf-8")), True)
    return found


def test_every_module_is_in_a_layer():
    lost = [str(path.relative_to(PROJECT_ROOT)) for module, path in modules().items() if layer_of(module) is None]
    assert not lost, "modules in no layer (move each into the layer's package it belongs to):\n" + "\n".join(lost)


def test_no_import_runs_up_a_layer():
    known = modules()
    upward = []
    for module, path in known.items():
        here = layer_of(module)
        for line, imported, _ in imports(module, path, known):
            there = layer_of(imported)
            if here is not None and there is not None and there > here:
                upward.append(f"{path.relative_to(PROJECT_ROOT)}:{line} imports {imported} "
                              f"(layer {LAYERS[here][0]} → layer {LAYERS[there][0]})")
    assert not upward, "imports that run up a layer:\n" + "\n".join(upward)


def test_no_import_cycle_at_load_time():
    known = modules()
    graph = {module: {imported for _, imported, at_load in imports(module, path, known) if at_load and imported != module}
             for module, path in known.items()}
    cycles, done = [], set()

    def walk(module: str, trail: list[str]) -> None:
        if module in trail:
            cycles.append(" → ".join(trail[trail.index(module):] + [module]))
            return
        if module in done:
            return
        for imported in sorted(graph.get(module, ())):
            walk(imported, [*trail, module])
        done.add(module)

    for module in sorted(graph):
        walk(module, [])
    assert not cycles, "modules that import each other as they load:\n" + "\n".join(cycles)
