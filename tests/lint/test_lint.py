"""Static checks of the repository: ruff, ruff format, mypy, the GitHub
workflow's schema and shellcheck, each with the settings kept in the
repository (pyproject.toml).

The tools are the ones requirements-dev.txt installs next to this interpreter
(scripts/test.sh keeps that virtualenv current); none of them needs the
network (check-jsonschema validates against the schema bundled with it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.lint

REPO_ROOT = Path(__file__).resolve().parents[2]
# Not resolved: in a virtualenv, bin/python is a symlink to the base interpreter.
TOOLS = Path(sys.executable).parent
# Folders never searched for shell scripts.
SKIP_DIRS = {".git", ".venv", "venv", ".mypy_cache", ".ruff_cache", ".pytest_cache", "node_modules", "results"}


def tool(name: str) -> str:
    path = TOOLS / name
    assert path.is_file(), f"{name} not found in {TOOLS}: install requirements-dev.txt (scripts/test.sh does)"
    return str(path)


def check(*command: str) -> None:
    """Run a tool from the repository root; fail with its output unless it exits 0."""
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        shown = " ".join([Path(command[0]).name, *command[1:]])
        pytest.fail(f"`{shown}` exited {done.returncode}:\n{done.stdout}{done.stderr}", pytrace=False)


def shell_scripts() -> list[str]:
    """Every ``*.sh`` file and every file with a sh/bash shebang, repository-relative."""
    found = []
    for folder, dirs, files in os.walk(REPO_ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith(".venv")]
        for name in files:
            path = Path(folder, name)
            if name.endswith(".sh") or _shell_shebang(path):
                found.append(str(path.relative_to(REPO_ROOT)))
    return sorted(found)


def _shell_shebang(path: Path) -> bool:
    with path.open("rb") as src:
        first = src.readline(200)
    if not first.startswith(b"#!"):
        return False
    words = first[2:].split()
    if words and words[0].endswith(b"/env"):
        words = words[1:]
    return bool(words) and words[0].rsplit(b"/", 1)[-1] in (b"sh", b"bash")


def workflows() -> list[str]:
    folder = REPO_ROOT / ".github" / "workflows"
    return sorted(str(p.relative_to(REPO_ROOT)) for p in [*folder.glob("*.yml"), *folder.glob("*.yaml")])


def test_ruff_check() -> None:
    check(tool("ruff"), "check", "--no-fix", ".")


def test_ruff_format() -> None:
    check(tool("ruff"), "format", "--diff", ".")


def test_mypy() -> None:
    check(tool("mypy"), "--config-file", "pyproject.toml")


def test_github_workflows_match_the_schema() -> None:
    files = workflows()
    assert files, "no workflow in .github/workflows"
    check(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *files)


def test_shellcheck() -> None:
    scripts = shell_scripts()
    assert {".ci/run", "scripts/test.sh", "scripts/failover.sh"} <= set(scripts), scripts
    check(tool("shellcheck"), *scripts)
