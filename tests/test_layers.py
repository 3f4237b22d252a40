"""The package's layers, read from its imports: each imports only the layers below it, nothing
outside ``movierec/book/`` imports the book, and no two modules import each other, directly or
around a circle (imports inside functions count too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "movierec"

#: Each folder (or top-level module) and its rank: a module may import only from ranks at or
#: below its own. The package root (``movierec/__init__.py``) gathers the library's public names.
LAYERS = {
    "movierec.errors": 0,
    "movierec.numbers": 0,
    "movierec.data": 1,
    "movierec.model": 2,
    "movierec.runs": 3,
    "movierec.judging": 4,
    "movierec.plots": 5,
    "movierec.cli": 6,
    "movierec.torchrun": 7,
    "movierec": 8,
    "movierec.book": 9,
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``path`` imports, anywhere in the file."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            targets = [source] + [f"{source}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(target for target in targets if target in known)
    found.discard(name)
    return found


def layer(name: str) -> str:
    return max((prefix for prefix in LAYERS if name == prefix or name.startswith(prefix + ".")), key=len)


def import_graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imported(name, path, set(found)) for name, path in found.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for child in graph[node]:
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in on_stack:
                low[node] = min(low[node], index[child])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return groups


def test_every_module_has_a_layer():
    assert all(layer(name) in LAYERS for name in modules())
    assert {"movierec.model.train", "movierec.model.cost", "movierec.book.pages"} <= set(modules())


def test_imports_run_down_the_layers():
    upward = [
        f"{name} ({layer(name)}) imports {target} ({layer(target)})"
        for name, targets in import_graph().items()
        for target in targets
        if LAYERS[layer(target)] > LAYERS[layer(name)]
    ]
    assert upward == []


def test_nothing_outside_the_book_imports_it():
    into_book = [
        f"{name} imports {target}"
        for name, targets in import_graph().items()
        if not name.startswith("movierec.book")
        for target in targets
        if target.startswith("movierec.book")
    ]
    assert into_book == []


def test_no_circle_of_imports():
    assert circles(import_graph()) == []


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": set()}, []),
    ],
)
def test_circles_finds_a_circle(graph, expected):
    assert circles(graph) == expected


def test_the_checker_sees_relative_and_nested_imports(tmp_path):
    known = {"movierec.model.train", "movierec.numbers", "movierec.book.tables", "movierec.model"}
    source = tmp_path / "train.py"
    source.write_text(
        "from ..numbers import format_lr\n"
        "def label():\n"
        "    from ..book.tables import table\n"
        "    import movierec.model\n"
    )
    assert imported("movierec.model.train", source, known) == {
        "movierec.numbers",
        "movierec.book.tables",
        "movierec.model",
    }
