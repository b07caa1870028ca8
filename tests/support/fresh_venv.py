"""A fresh virtualenv with the zkleader distribution installed from this checkout.

``fresh_venv(directory, extras)`` runs ``python -m venv --without-pip`` and
then ``pip install './services/api[extras]'`` into it with the test
interpreter's pip (``pip --python``: seconds instead of ensurepip's half a
minute, and nothing in the venv but the distribution and its dependencies),
and returns the venv's python. The
versions come from the pins (services/api/requirements.txt and
requirements-build.txt, as constraints), so the install is the image's:
first offline from services/api/wheelhouse (scripts/prepare-offline-images.sh
fills it; the build backend flit_core is there too), and only when that is
incomplete from the package index, through pip's cache.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.compose import REPO_ROOT

API = REPO_ROOT / "services" / "api"
WHEELHOUSE = API / "wheelhouse"
CONSTRAINTS = [API / "requirements.txt", API / "requirements-build.txt"]
PIP_TIMEOUT = 600


class FreshVenvError(RuntimeError):
    """The venv could not be made or the distribution not installed."""


def venv_python(directory: Path) -> Path:
    return directory / "bin" / "python"


def pip(python: Path, *args: str, offline: bool) -> subprocess.CompletedProcess[str]:
    """``pip --python PYTHON ARGS`` pinned by the constraints; ``offline``: the wheelhouse only."""
    command = [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check", "--no-input", *args]
    for constraints in CONSTRAINTS:
        command += ["--constraint", str(constraints)]
    if WHEELHOUSE.is_dir():
        command += ["--find-links", str(WHEELHOUSE)]
    if offline:
        command.append("--no-index")
    # PIP_CONSTRAINT etc. from the caller's environment do not apply: the pins above do
    # (the rest of it, e.g. a proxy for the index, does).
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")} | {"PIP_NO_INPUT": "1"}
    return subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT, env=env, check=False)


def pip_run(python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run pip offline first, then (the wheelhouse lacking something) with the index."""
    done = pip(python, *args, offline=True)
    if done.returncode != 0:
        done = pip(python, *args, offline=False)
    if done.returncode != 0:
        raise FreshVenvError(f"pip {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done


def fresh_venv(directory: Path, extras: str = "") -> Path:
    """Make a venv in ``directory`` and install ``./services/api[extras]`` into it; return its python.

    ``extras`` is comma-separated (``"server"``, ``"server,cli"``), empty for
    the library alone.
    """
    made = subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if made.returncode != 0:
        raise FreshVenvError(f"python -m venv {directory} failed:\n{made.stdout}{made.stderr}")
    python = venv_python(directory)
    target = f"{API}[{extras}]" if extras else str(API)
    pip_run(python, "install", target)
    return python


def installed(python: Path) -> dict[str, str]:
    """``pip list`` of the venv as {canonical name: version}."""
    import json

    from packaging.utils import canonicalize_name

    listed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "list",
            "--format",
            "json",
            "--disable-pip-version-check",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return {canonicalize_name(p["name"]): p["version"] for p in json.loads(listed.stdout)}
