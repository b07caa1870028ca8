"""The package's shape: no import cycle anywhere in ``zkleader``, and no
election module so long that a newcomer cannot read it in one sitting.

The import graph is built from the source (AST, no import runs): every
``import`` and ``from ... import`` of a ``zkleader`` module, absolute or
relative, at module level, under ``if TYPE_CHECKING:`` or inside a function.
``from package import name`` counts as an import of ``package.name`` when
that is a module, else of ``package``. Importing a submodule also runs its
parents' ``__init__``; that implicit edge is not counted (every package
re-exports its submodules, so it would make every package a cycle).
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

pytestmark = pytest.mark.lint

PACKAGE_ROOT = Path(__file__).resolve().parents[2] / "services" / "api" / "zkleader"
ELECTION = PACKAGE_ROOT / "election"
MAX_ELECTION_MODULE_LINES = 350


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path = PACKAGE_ROOT) -> dict[str, Path]:
    return {module_name(p): p for p in sorted(root.rglob("*.py"))}


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The ``zkleader`` modules that module ``name`` (at ``path``) imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            # `import zkleader.a.b` imports zkleader.a.b; keep the longest known prefix.
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph(root: Path = PACKAGE_ROOT) -> dict[str, set[str]]:
    found = modules(root)
    known = set(found)
    return {name: imported(name, path, known) for name, path in found.items()}


def test_the_graph_sees_relative_absolute_and_function_level_imports() -> None:
    graph = import_graph()
    assert "zkleader.election" in graph["zkleader.api"]  # from .election import ...
    assert "zkleader.election.lease" in graph["zkleader.api"]  # from .election.lease import ...
    assert "zkleader" in graph["zkleader.runtime.host"]  # from .. import ...
    assert len(graph) > 20


def test_no_import_cycle_in_the_zkleader_package() -> None:
    graph = import_graph()
    cycle: list[str] = []
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        cycle = list(exc.args[1])
    assert not cycle, f"import cycle in zkleader: {' -> '.join(cycle)}"


def test_no_election_module_is_longer_than_350_lines() -> None:
    long = {
        str(path.relative_to(PACKAGE_ROOT.parent)): lines
        for path in sorted(ELECTION.rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_ELECTION_MODULE_LINES
    }
    assert not long, f"election modules longer than {MAX_ELECTION_MODULE_LINES} lines: {long}"
