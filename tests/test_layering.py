"""The import structure: no circles and no arrow from a lower layer to a higher one.

Parses (ast) every module of autograd/, nn/, optim/ and bench/, function-level (lazy)
imports included, and checks the layering of docs/architecture.md:

    autograd/kernels < autograd base (function, wrap, dtypes, grad_mode, errors, ...)
    < autograd/ops < autograd (tensor, engine, ...) < nn < optim < autograd/cli, bench
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("autograd", "nn", "optim", "bench")

# The one sanctioned arrow back up: autograd/__init__.py's module __getattr__ resolves
# `autograd.nn`, `autograd.optim`, ... by name on first attribute access (the porting
# facade, so `import autograd as torch` works). Its table `_LAZY` names the modules (they
# are imported with importlib, so they are read from the table as lazy edges of the
# package). Only lazy edges of the package itself may go up; a top-level import in
# autograd/__init__.py, or any import elsewhere, that goes up is still reported.
FACADE = {"autograd"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def collect_modules() -> dict[str, Path]:
    """Every module of the four packages, by dotted name."""
    return {
        _module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "__pycache__" not in path.parts
    }


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    if level == 0:
        return target or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of `name` that is one of our modules."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def import_edges(modules: dict[str, Path]) -> list[tuple[str, str, int, bool]]:
    """(importer, imported, line, inside_function) for every import between our modules."""
    edges = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(), str(path))
        is_package = path.name == "__init__.py"
        lazy_nodes = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            for inner in ast.walk(node)
        }
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, is_package, node.level, node.module)
                for alias in node.names:
                    sub = f"{base}.{alias.name}" if base else alias.name
                    targets.append(sub if sub in modules else base)
            for target in targets:
                known = _known(target, modules)
                if known is not None and known != module:
                    edges.append((module, known, node.lineno, id(node) in lazy_nodes))
    return edges + _facade_edges(modules)


def _facade_edges(modules: dict[str, Path]) -> list[tuple[str, str, int, bool]]:
    """The modules autograd/__init__.py's `_LAZY` table resolves by name (lazy edges)."""
    edges = []
    tree = ast.parse(modules["autograd"].read_text())
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and getattr(node.targets[0], "id", None) == "_LAZY"):
            for value in ast.literal_eval(node.value).values():
                target = (_resolve("autograd", True, 1, value[1:]) if value.startswith(".")
                          else value)
                edges.append(("autograd", _known(target, modules), node.lineno, True))
    return edges


# The modules every op may use: the Function base class, the Tensor-making helper
# (autograd.wrap, which tensor.py registers into), dtypes, grad mode, errors, random
# generators, devices, the recording hooks of autograd.compile (trace). They import nothing
# above themselves.
BASE = {"autograd.function", "autograd.wrap", "autograd.dtypes", "autograd.dtype_names",
        "autograd.errors", "autograd.grad_mode", "autograd.anomaly", "autograd.random",
        "autograd.devices", "autograd.cuda", "autograd.trace"}


def layer(module: str) -> int:
    """The layer of a module: higher layers may import lower ones, never the reverse."""
    if module.startswith("autograd.kernels"):
        return 0
    if module in BASE:
        return 1
    if module.startswith("autograd.ops"):
        return 2
    if module.startswith("autograd.cli") or module == "autograd.__main__":
        return 6
    if module.startswith("autograd"):
        return 3  # tensor, engine, functions, nn_ops, gradcheck, data, ...
    if module.startswith("nn"):
        return 4
    if module.startswith("optim"):
        return 5
    return 6  # bench


def find_cycles(edges: list[tuple[str, str, int, bool]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    graph: dict[str, set[str]] = {}
    for src, dst, _, _ in edges:
        graph.setdefault(src, set()).add(dst)
        graph.setdefault(dst, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def _structural_edges() -> list[tuple[str, str, int, bool]]:
    """The edges without the facade's lazy upward lookups (the allow-list)."""
    return [
        edge for edge in import_edges(collect_modules())
        if not (edge[0] in FACADE and edge[3] and layer(edge[1]) > layer(edge[0]))
    ]


def test_modules_are_found() -> None:
    modules = collect_modules()
    for name in ("autograd.tensor", "autograd.engine", "autograd.ops.binary",
                 "autograd.kernels.registry", "nn.module", "optim.sgd", "bench.timing"):
        assert name in modules
    edges = import_edges(modules)
    assert ("autograd.ops.binary", "autograd.function") in {e[:2] for e in edges}


def test_the_facade_is_the_only_allowed_arrow_up() -> None:
    structural = _structural_edges()
    allowed = [edge[:2] for edge in import_edges(collect_modules()) if edge not in structural]
    assert sorted(allowed) == [("autograd", "nn"), ("autograd", "optim")]


def test_cycle_finder_finds_a_cycle() -> None:
    edges = [("a", "b", 1, False), ("b", "c", 1, True), ("c", "a", 1, False),
             ("c", "d", 1, False)]
    assert find_cycles(edges) == [["a", "b", "c"]]


def test_no_import_cycles() -> None:
    cycles = find_cycles(_structural_edges())
    assert cycles == [], "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_no_import_from_a_lower_layer_to_a_higher_one() -> None:
    upward = [
        f"{src}:{line} imports {dst}{' (inside a function)' if lazy else ''}"
        for src, dst, line, lazy in _structural_edges()
        if layer(dst) > layer(src)
    ]
    assert upward == [], "imports that go up a layer:\n" + "\n".join(upward)
