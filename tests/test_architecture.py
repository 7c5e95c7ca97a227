"""The package's layers (docs/explanation/architecture.md): model → scenario → experiment →
views → api → command line. A module imports only from its own layer or the layers below it, module
imports have no cycles, and no module grows past ~400 lines without a reason written here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "simulator"
LAYERS = ["model", "scenario", "experiment", "views", "api", "cli"]  # bottom to top

# Files allowed above MAX_LINES, with the reason (issue 10: "no file above ~400 lines without a
# reason you write down"). Each entry is a debt unless its reason says why one file is right.
MAX_LINES = 400
LONG_FILES: dict[str, str] = {
    # one concept each, long because the concept is:
    "simulator.model.campaign": "the model's step order (docs/model.md §4) reads best in one "
                                "class: brands, waves, mentions, exposure, adoption, pout",
    "simulator.model.strategies": "the built-in strategy catalogue: one short class per "
                                  "strategy, each with its words (report, explain, dashboard)",
    "simulator.scenario.schema": "every section of the scenario format with its ranges and "
                                 "defaults, so docs/reference/scenario.md maps onto one file",
    "simulator.scenario.loader": "the loading pipeline in the order it runs: extends:, --set "
                                 "and typed overrides, variants and sweep values, validation "
                                 "(the reader, messages and checks are modules of their own)",
    "simulator.cli": "the command line: thirteen commands with their options, help texts and "
                     "exit codes; each only parses, calls simulator.api or a view, and prints "
                     "(the results workflow is simulator.api, the tables simulator.views.console)",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int | None:
    """The layer of ``simulator.<layer>...``, or None for the package's root modules."""
    parts = module.split(".")
    if len(parts) < 2:
        return None
    name = parts[1]
    return LAYERS.index(name) if name in LAYERS else None


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def runtime_imports(path: Path) -> set[str]:
    """Modules of ``simulator`` that ``path`` imports when it runs (anywhere in the file, in
    functions too), leaving out ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("simulator"))
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import (use absolute simulator.… imports)"
            if node.module and node.module.startswith("simulator"):
                for alias in node.names:  # `from simulator.model import strategies` → module
                    sub = f"{node.module}.{alias.name}"
                    found.add(sub if (PACKAGE.parent / (sub.replace(".", "/") + ".py")).exists()
                              else node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_from_a_higher_layer(module: str) -> None:
    own = layer(module)
    if own is None:  # simulator/__init__.py and __main__.py: the public API on top of all
        return
    higher = [m for m in runtime_imports(MODULES[module])
              if (other := layer(m)) is not None and other > own]
    assert not higher, f"{module} (layer {LAYERS[own]}) imports from higher layers: {higher}"


def test_module_imports_have_no_cycles() -> None:
    graph = {m: {i for i in runtime_imports(p) if i in MODULES and i != m and layer(i) is not None}
             for m, p in MODULES.items() if layer(m) is not None}
    # a sub-package's __init__ re-exports its modules: an edge into it is an edge to them
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt):], nxt]
                pytest.fail("import cycle: " + " → ".join(cycle))
            if nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            walk(node)


def test_no_file_is_long_without_a_written_reason() -> None:
    long = {module: len(path.read_text(encoding="utf-8").splitlines())
            for module, path in MODULES.items()}
    unexplained = {m: n for m, n in long.items() if n > MAX_LINES and m not in LONG_FILES}
    assert not unexplained, f"over {MAX_LINES} lines with no reason in LONG_FILES: {unexplained}"
    stale = [m for m in LONG_FILES if long.get(m, 0) <= MAX_LINES]
    assert not stale, f"LONG_FILES lists files that are short now: {stale}"
