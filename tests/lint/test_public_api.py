"""The service is the library's first user: zkleader.web, zkleader.runtime,
zkleader.cli and zkleader.cluster (the peer reports and the term log) import
the election only through the public API (top-level names of ``zkleader``),
never ``zkleader.election`` or one of its submodules, absolute or relative.
No exception. Read as source with ``ast``; nothing is imported.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.lint

PACKAGE = Path(__file__).resolve().parents[2] / "services" / "api" / "zkleader"
SERVICE = ("web", "runtime", "cli", "cluster")
ELECTION = "zkleader.election"


def modules() -> Iterator[tuple[str, Path]]:
    for folder in SERVICE:
        for path in sorted((PACKAGE / folder).rglob("*.py")):
            parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
            yield ".".join(parts), path


def imported(module: str, path: Path, tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Every module an import statement names, made absolute (``from X import y`` yields X and X.y)."""
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def election_import(name: str) -> bool:
    return name == ELECTION or name.startswith(ELECTION + ".")


def offenders(module: str, path: Path, source: str) -> list[str]:
    found = []
    for line, name in imported(module, path, ast.parse(source, str(path))):
        if election_import(name):
            found.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}")
    return found


def test_the_service_imports_the_election_only_through_the_public_api() -> None:
    found = [o for module, path in modules() for o in offenders(module, path, path.read_text())]
    assert not found, "import these from `zkleader` (the public API) instead:\n" + "\n".join(found)


def test_the_service_modules_are_found() -> None:
    names = {m for m, _ in modules()}
    assert {"zkleader.web.routes", "zkleader.runtime.host", "zkleader.cli.main", "zkleader.cluster.report"} <= names


@pytest.mark.parametrize(
    "source",
    [
        "from ..election import Status\n",
        "from ..election.lease import now\n",
        "from .. import election\n",
        "import zkleader.election\n",
        "from zkleader.election.switchover import SwitchoverResult\n",
        "from zkleader import election\n",
        "from ..election.cluster import ClusterTerm\n",
    ],
)
def test_the_check_catches_every_form(source: str) -> None:
    path = PACKAGE / "runtime" / "host.py"
    assert offenders("zkleader.runtime.host", path, source)


@pytest.mark.parametrize(
    "source",
    [
        "from .. import Status, LeaderElection\n",
        "from zkleader import Fence\n",
        "from ..cluster.report import ClusterTerm\n",
        "from ..cluster.term_log import ClusterTermLog\n",
        "from . import peers\n",
    ],
)
def test_the_check_allows_the_public_api_and_the_service_packages(source: str) -> None:
    path = PACKAGE / "runtime" / "host.py"
    assert not offenders("zkleader.runtime.host", path, source)
