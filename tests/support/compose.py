"""Running ``docker compose`` from tests, always against this repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def compose_command(project: str, *files: str) -> list[str]:
    """``docker compose`` for ``project``, paths and .env resolved from the repo root."""
    command = ["docker", "compose", "--project-directory", str(REPO_ROOT), "-p", project]
    for file in files:
        command += ["-f", str(REPO_ROOT / file)]
    return command


def run(command: list[str], timeout: float = 300) -> str:
    """Run a command; raise with its output when it fails."""
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout
