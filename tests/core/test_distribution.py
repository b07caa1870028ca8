"""``pip install ./services/api`` into fresh venvs: the library alone, then each extra.

No ZooKeeper needed. The venvs are made once per session (tests/support/fresh_venv.py),
offline from the wheelhouse when it is complete.
"""

from __future__ import annotations

import subprocess
import zipfile
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.fresh_venv import installed, pip_run

LIBRARY_MODULES = ["zkleader", "zkleader.election", "zkleader.journal", "zkleader.testing", "zkleader.testing.check"]
OPTIONAL = ["flask", "gunicorn", "click", "rich", "prometheus_client"]


def closure(names: Iterable[str]) -> set[str]:
    """The distributions ``names`` need, themselves included, from their installed metadata (no extras)."""
    seen: set[str] = set()
    todo = [canonicalize_name(n) for n in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for line in metadata.requires(name) or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(canonicalize_name(requirement.name))
    return seen


def run(python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(python), *args], capture_output=True, text=True, timeout=120, check=False)


def test_the_library_installs_kazoo_and_its_dependencies_only(venv: Callable[[str], Path]) -> None:
    python = venv("")
    assert set(installed(python)) == {"zkleader"} | closure(["kazoo"])
    done = run(
        python, "-c", "from zkleader import LeaderElection, Fence; print(LeaderElection.__name__, Fence.__name__)"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["LeaderElection", "Fence"]


def test_the_library_imports_without_the_extras(venv: Callable[[str], Path]) -> None:
    probe = (
        "import importlib, sys\n"
        f"for name in {LIBRARY_MODULES!r}: importlib.import_module(name)\n"
        f"print(sorted(m for m in {OPTIONAL!r} if m in sys.modules))\n"
    )
    done = run(venv(""), "-c", probe)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_without_the_cli_extra_the_command_says_what_to_install(venv: Callable[[str], Path]) -> None:
    script = venv("").parent / "zkleader"
    assert script.is_file()
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "pip install 'zkleader[cli]'" in lines[0], done.stderr


def test_the_server_extra_adds_flask_gunicorn_and_prometheus_client(venv: Callable[[str], Path]) -> None:
    base = set(installed(venv("")))
    python = venv("server")
    assert set(installed(python)) - base == closure(["flask", "gunicorn", "prometheus-client"]) - base
    done = run(python, "-c", "from zkleader.web import create_app; import gunicorn, prometheus_client")
    assert done.returncode == 0, done.stderr


def test_the_cli_extra_adds_click_and_rich_and_the_command(venv: Callable[[str], Path]) -> None:
    base = set(installed(venv("")))
    python = venv("cli")
    assert set(installed(python)) - base == closure(["click", "rich"]) - base
    done = subprocess.run(
        [str(python.parent / "zkleader"), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Usage: zkleader" in done.stdout and "failover" in done.stdout


def test_the_wheel_ships_py_typed_and_the_packages(venv: Callable[[str], Path], tmp_path: Path) -> None:
    from tests.support.fresh_venv import API

    pip_run(venv(""), "wheel", "--no-deps", "--wheel-dir", str(tmp_path), str(API))
    (wheel,) = tmp_path.glob("zkleader-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "zkleader/py.typed" in names
    for module in (
        "zkleader/testing/fake_kazoo.py",
        "zkleader/cli/ops/trial.py",
        "zkleader/election/candidate.py",
        "zkleader/api.py",
    ):
        assert module in names
    assert not any("__pycache__" in name for name in names)
