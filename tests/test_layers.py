"""The layering of docs/architecture.md, enforced: every import of the package (function-level
ones included) goes down a layer or stays in its own, and no files import each other in a
circle. Add an upward import and this fails, naming the file, the line and both layers."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "gmnet"

#: The layers, bottom to top (docs/architecture.md). A module belongs to the layer of its first
#: package component (gmnet.analysis.ask -> analysis); top-level modules are named.
LAYERS: dict[str, int] = {
    "errors": 0, "random": 0, "display": 0, "_version": 0, "_interrupt": 0,
    "model": 1, "query_text": 1,
    "inference": 2, "io": 2,
    "analysis": 3,
    "viz": 4,
    "report": 5,
    "web": 6,
    "cli": 7,
    "__init__": 8, "__main__": 8,
}
#: Layers on one rung that must not import each other (siblings).
SIBLINGS = {("inference", "io"), ("io", "inference")}
#: The pgmpy adapter: the one module that imports pgmpy, which readers in io/ may call.
ADAPTERS = {"gmnet.inference.pgmpy_backend"}
#: The documented exception: the headline Network.query forwards to the one question path.
EXCEPTIONS = {("gmnet.model.network", "gmnet.analysis.ask")}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "__init__"
    return parts[1]


def _type_only(tree: ast.AST) -> set[int]:
    """The ids of import statements under ``if TYPE_CHECKING:`` (for annotations only)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            out |= {id(n) for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)}
    return out


def _imports(path: Path, *, runtime: bool = False) -> list[tuple[int, str]]:
    """Every ``gmnet...`` module ``path`` imports, with its line (function-level included;
    with ``runtime``, not those only for type annotations)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    own = _module_name(path)
    skip = _type_only(tree) if runtime else set()
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "gmnet"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this package
                base = own.split(".")[: -node.level] if path.name != "__init__.py" else \
                    own.split(".")[: len(own.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            if module.split(".")[0] != "gmnet":
                continue
            found.append((node.lineno, module))
            # `from gmnet.x import y` may import the submodule gmnet.x.y
            for alias in node.names:
                candidate = f"{module}.{alias.name}"
                if _exists(candidate):
                    found.append((node.lineno, candidate))
    return found


def _exists(module: str) -> bool:
    rel = Path(*module.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").is_file() or (PACKAGE / rel / "__init__.py").is_file()


def _files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _graph(*, runtime: bool = False) -> tuple[nx.DiGraph, list[str]]:
    graph = nx.DiGraph()
    climbing = []
    for path in _files():
        source = _module_name(path)
        graph.add_node(source)
        for line, target in _imports(path, runtime=runtime):
            if target == source or not _exists(target) and target != "gmnet":
                continue
            here, there = _layer(source), _layer(target)
            if source == "gmnet" or target.startswith(source + "."):
                continue  # a package's __init__ re-exporting its own modules
            graph.add_edge(source, target)
            if (source, target) in EXCEPTIONS or target in ADAPTERS and LAYERS[here] >= 1:
                continue
            if LAYERS[there] > LAYERS[here] or (here, there) in SIBLINGS:
                climbing.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {source} ({here}, "
                                f"layer {LAYERS[here]}) imports {target} ({there}, layer "
                                f"{LAYERS[there]})")
    return graph, climbing


def test_every_module_has_a_layer():
    unknown = sorted({_layer(_module_name(p)) for p in _files()} - set(LAYERS))
    assert not unknown, f"modules outside every layer of docs/architecture.md: {unknown}"


def test_no_import_climbs_a_layer():
    _, climbing = _graph()
    assert not climbing, "imports that climb a layer:\n" + "\n".join(climbing)


def test_no_files_import_each_other_in_a_circle():
    """At run time (imports for type annotations only are no arrow)."""
    graph, _ = _graph(runtime=True)
    graph.remove_edges_from(EXCEPTIONS)
    circles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert not circles, f"import circles: {circles}"


def test_the_check_fails_on_an_upward_import(tmp_path, monkeypatch):
    """The test can fail: a model module that imports the command line is named."""
    fake = tmp_path / "gmnet"
    (fake / "model").mkdir(parents=True)
    (fake / "cli").mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "model" / "__init__.py").write_text("")
    (fake / "cli" / "__init__.py").write_text("")
    (fake / "model" / "bad.py").write_text("def f():\n    from gmnet.cli import main\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", fake)
    _, climbing = _graph()
    assert climbing == ["gmnet/model/bad.py:2: gmnet.model.bad (model, layer 1) imports "
                        "gmnet.cli (cli, layer 7)"]


@pytest.mark.parametrize("path", [p for p in _files() if p.suffix == ".py"],
                         ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_modules_stay_small(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= 520, f"{path.name} has {lines} lines: split it along its seams"
