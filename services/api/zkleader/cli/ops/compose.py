"""``docker compose`` for one project, as the failover command needs it.

Every call has a bound; a failure is a :class:`ComposeError` carrying the
command's own output, never a hang.
"""

from __future__ import annotations

import datetime
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


class ComposeError(RuntimeError):
    """A docker or docker compose command failed (its output is the message)."""


def find_project_directory(start: Path) -> Path | None:
    """The nearest directory from ``start`` upwards that holds a compose.yaml."""
    for folder in (start, *start.parents):
        if (folder / "compose.yaml").is_file():
            return folder
    return None


def docker_ready() -> str | None:
    """None when docker and its engine answer, else one line saying what is wrong."""
    if shutil.which("docker") is None:
        return "docker not found on PATH"
    try:
        done = subprocess.run(["docker", "info"], capture_output=True, timeout=30, check=False)
    except subprocess.TimeoutExpired:
        return "the Docker engine does not answer"
    return None if done.returncode == 0 else "the Docker engine does not answer"


@dataclass(frozen=True)
class Compose:
    project: str
    directory: Path

    def command(self, *args: str) -> list[str]:
        return [
            "docker",
            "compose",
            "--project-directory",
            str(self.directory),
            "-f",
            str(self.directory / "compose.yaml"),
            "-p",
            self.project,
            *args,
        ]

    def run(self, *args: str, timeout: float = 120) -> str:
        return _run(self.command(*args), timeout)

    def services(self) -> list[str]:
        return self.run("config", "--services").split()

    def published_port(self, service: str, port: int = 8000) -> int | None:
        """The loopback port ``service``'s ``port`` is published on; None when it is not running."""
        try:
            out = self.run("port", service, str(port)).strip()
        except ComposeError:
            return None
        head, _, tail = out.rpartition(":")
        return int(tail) if head and tail.isdigit() else None

    def container(self, service: str) -> str:
        return self.run("ps", "-q", "--all", service).strip()


def finished_at(container: str) -> float | None:
    """When Docker saw the container's process end (Unix seconds), if it knows."""
    try:
        text = _run(["docker", "inspect", "-f", "{{.State.FinishedAt}}", container], 30)
    except ComposeError:
        return None
    return parse_rfc3339(text)


def parse_rfc3339(text: str) -> float | None:
    """Docker's timestamps (nanoseconds, ``Z`` or an offset) to Unix seconds."""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)", text.strip())
    if match is None:
        return None
    zone = "+00:00" if match[3] == "Z" else match[3]
    base = datetime.datetime.fromisoformat(match[1] + zone)
    if base.year < 1971:  # "0001-01-01T00:00:00Z": never finished
        return None
    return base.timestamp() + float(match[2] or 0)


def _run(command: list[str], timeout: float) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ComposeError(f"{' '.join(command[:2])} {command[-2]} {command[-1]}: no end within {timeout:g} s") from exc
    except OSError as exc:
        raise ComposeError(f"cannot run {command[0]}: {exc}") from exc
    if done.returncode != 0:
        raise ComposeError((done.stderr or done.stdout).strip() or f"{' '.join(command)} exited {done.returncode}")
    return done.stdout
