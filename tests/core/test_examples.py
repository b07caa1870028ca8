"""Every program under examples/ runs against a real ZooKeeper and says what it should.

Each runs as a subprocess of this interpreter with ``PYTHONPATH=services/api``;
the handover program also runs in a fresh virtualenv with only the base
distribution installed (kazoo and zkleader), outside the checkout, as a user
would run a program written against the public API.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.core.conftest import ZooKeeper
from tests.support.compose import REPO_ROOT

pytestmark = pytest.mark.zookeeper

EXAMPLES = REPO_ROOT / "examples"


def run_example(
    name: str, zookeeper: ZooKeeper, *args: str, env_hosts: bool = False
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "services" / "api")}
    argv = [sys.executable, str(EXAMPLES / name)]
    if env_hosts:
        env["ZK_HOSTS"] = zookeeper.hosts
    else:
        argv.append(zookeeper.hosts)
    return subprocess.run(
        [*argv, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_every_example_is_tested() -> None:
    tested = {"quickstart.py", "leader_job.py", "asyncio_leader.py", "handover.py"}
    assert {p.name for p in EXAMPLES.glob("*.py")} == tested


def test_quickstart(zookeeper: ZooKeeper) -> None:
    done = run_example("quickstart.py", zookeeper, env_hosts=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "leading: worker-1, fence Fence(member_path='/examples/quickstart/" in done.stdout


def test_leader_job_writes_fenced_heartbeats(zookeeper: ZooKeeper) -> None:
    done = run_example("leader_job.py", zookeeper, "3")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("elected with epoch ")
    assert sum(line.startswith("heartbeat ") for line in lines) == 3
    assert lines[-1] == "job done: 3 heartbeats"


def test_asyncio_example(zookeeper: ZooKeeper) -> None:
    done = run_example("asyncio_leader.py", zookeeper)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "leading: async-worker" in done.stdout
    assert "status: leader" in done.stdout
    assert done.stdout.splitlines()[-2:] == ["status: stopped", "closed: changes() ended"]


def test_handover_example(zookeeper: ZooKeeper) -> None:
    done = run_example("handover.py", zookeeper)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3 and all(line.startswith("ok: ") for line in lines), done.stdout
    assert "client is still connected" in lines[2]


def test_a_program_written_against_the_public_api_runs_from_a_fresh_install(
    zookeeper: ZooKeeper, venv: Callable[[str], Path], tmp_path: Path
) -> None:
    """Two elections on their own clients: exactly one leads, it closes, the
    other leads within 1 s, and the closed one's client is still connected."""
    program = tmp_path / "handover.py"
    program.write_text((EXAMPLES / "handover.py").read_text())  # away from the checkout's sources
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [str(venv("")), "-I", str(program), zookeeper.hosts],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3 and all(line.startswith("ok: ") for line in lines), done.stdout
    assert "client is still connected" in lines[2]
