"""Running ``docker compose`` from tests, always against this repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tenacity import Retrying, retry_if_exception_message, stop_after_attempt, wait_fixed

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


def pause(compose: list[str], service: str) -> None:
    """``docker compose pause`` (the cgroup freezer), retried when runc reports
    "unable to freeze": on cgroup v1 the freezer can fail to settle while a
    process joins the cgroup (the container's healthcheck exec), and runc then
    thaws the container and gives up. That is the fault tool failing, not the
    system under test, so the freeze is simply tried again."""
    for attempt in Retrying(
        stop=stop_after_attempt(5),
        wait=wait_fixed(0.2),
        retry=retry_if_exception_message(match=r"(?s).*unable to freeze"),
        reraise=True,
    ):
        with attempt:
            run([*compose, "pause", service])
