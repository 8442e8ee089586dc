"""The import graph: no cycle, and no layer imports one to its right (DESIGN.md's table).

Every `import` of the package is read from the source. The layer rule counts them all; the
cycle rule counts every import that runs (inside functions too: a deferred import is how a cycle
hides, as range-diff's call into the changelog check once did), leaving out only
`if TYPE_CHECKING:` blocks, which never run. A new cycle or a rightward import fails here.
The layer table is data: a new module belongs to the layer of its longest matching prefix; a
module no row names fails the test, so it must be placed.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "reviewtool"

# DESIGN.md's layers, left to right: a module may import its own layer and those to its left.
# Rows share a rank where DESIGN puts them side by side.
LAYERS: list[tuple[int, tuple[str, ...]]] = [
    # Helpers every layer may use: typed errors, git's line cutting, safe output files, lazy
    # package exports.
    (0, ("reviewtool.errors", "reviewtool.textlines", "reviewtool.outfile", "reviewtool.lazy")),
    (0, ("reviewtool.schemas",)),  # the JSON schemas, data every layer may describe itself by
    (1, ("reviewtool.sources",)),
    (2, ("reviewtool.mail",)),
    (3, ("reviewtool.series", "reviewtool.ingest")),  # ingest joins sources, mail and series
    (4, ("reviewtool.diff",)),
    (5, ("reviewtool.cparse",)),
    (6, ("reviewtool.analyses.findings", "reviewtool.analyses.status")),  # the Finding type
    (7, ("reviewtool.analyses.rangediff",)),
    (8, ("reviewtool.analyses.changelog_check", "reviewtool.analyses.followup")),
    (8, ("reviewtool.analyses.migration",)),
    (8, ("reviewtool.analyses.spec",)),
    (9, ("reviewtool.analyses",)),  # the package itself and any analysis added beside these
    (10, ("reviewtool.review",)),
    (11, ("reviewtool.render",)),
    (12, ("reviewtool.config",)),  # front-end settings (the fail-on severity)
    (13, ("reviewtool.cli", "reviewtool.hook", "reviewtool.bot", "reviewtool.scan")),
    (14, ("reviewtool.__main__",)),
]
# Modules placed by their exact name: the root package holds only the version string.
EXACT = {"reviewtool": 0}


def layer_of(module: str) -> tuple[int, str]:
    """(rank, prefix) of the row whose prefix matches `module` longest."""
    if module in EXACT:
        return EXACT[module], module
    best: tuple[int, str] | None = None
    for rank, prefixes in LAYERS:
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > len(best[1]):
                    best = (rank, prefix)
    assert best is not None, f"{module} is in no layer of the table: place it"
    return best


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _runtime_nodes(tree: ast.Module) -> list[ast.AST]:
    """Every node but those under `if TYPE_CHECKING:` (type-only imports never run)."""
    out: list[ast.AST] = []
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        out.append(node)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            pending.extend(node.orelse)
            continue
        pending.extend(ast.iter_child_nodes(node))
    return out


def _imports(name: str, path: Path, known: set[str], runtime: bool = False) -> set[str]:
    """The package's modules `name` imports, resolved to modules (not names in them); with
    `runtime`, only imports that can run (not the TYPE_CHECKING ones)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    nodes = _runtime_nodes(tree) if runtime else list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == "reviewtool")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base.split(".")[0] != "reviewtool":
                continue
            for alias in node.names:
                full = f"{base}.{alias.name}"
                out.add(full if full in known else base)
    return {m for m in out if m in known and m != name}


def _graph(runtime: bool = False) -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known, runtime) for name, path in modules.items()}


def test_every_module_has_a_layer() -> None:
    for name in _modules():
        layer_of(name)


def test_no_layer_imports_one_to_its_right() -> None:
    wrong = []
    for name, targets in sorted(_graph().items()):
        rank, prefix = layer_of(name)
        for target in sorted(targets):
            their_rank, their_prefix = layer_of(target)
            if their_rank > rank:
                wrong.append(f"{name} ({prefix}) imports {target} ({their_prefix})")
    assert not wrong, "imports to the right:\n" + "\n".join(wrong)


def test_the_import_graph_has_no_cycle() -> None:
    graph = _graph(runtime=True)
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    stack: list[str] = []
    cycles: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*stack[stack.index(target) :], target]))
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_checker_sees_a_cycle_and_a_rightward_import(tmp_path: Path) -> None:
    """The walker itself: a made-up pair of modules importing each other is a cycle."""
    (tmp_path / "reviewtool").mkdir()
    (tmp_path / "reviewtool" / "a.py").write_text("from reviewtool.b import x\n")
    (tmp_path / "reviewtool" / "b.py").write_text(
        "import reviewtool.a\n\ndef f():\n    import reviewtool.c\n"
    )
    known = {"reviewtool.a", "reviewtool.b", "reviewtool.c"}
    global PACKAGE
    saved, PACKAGE = PACKAGE, tmp_path / "reviewtool"
    try:
        assert _imports("reviewtool.a", PACKAGE / "a.py", known) == {"reviewtool.b"}
        assert _imports("reviewtool.b", PACKAGE / "b.py", known) == {
            "reviewtool.a",
            "reviewtool.c",
        }
        assert _imports("reviewtool.b", PACKAGE / "b.py", known, runtime=True) == {
            "reviewtool.a",
            "reviewtool.c",
        }
    finally:
        PACKAGE = saved
    assert layer_of("reviewtool.mail.parse")[0] < layer_of("reviewtool.render.html")[0]
