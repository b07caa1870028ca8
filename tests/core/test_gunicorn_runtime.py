"""The real gunicorn entry point with several workers against a real ZooKeeper:
one participant per instance, takeover when its worker dies, clean SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from kazoo.client import KazooClient

from tests.support.compose import REPO_ROOT
from tests.support.waiting import eventually, expect

from .conftest import SESSION_TIMEOUT, ZooKeeper

pytestmark = pytest.mark.zookeeper

WORKERS = 3
DRAIN_SECONDS = 1.0  # longer than in production, so the test can look inside the drain


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def instance(zookeeper: ZooKeeper, election_path: str, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "ZK_HOSTS": zookeeper.hosts,
        "ELECTION_PATH": election_path,
        "INSTANCE_ID": "local1",
        "ADVERTISED_ADDRESS": f"http://127.0.0.1:{port}",
        "STATE_DIR": str(tmp_path / "state"),
        "GUNICORN_WORKERS": str(WORKERS),
        "BIND": f"127.0.0.1:{port}",
        "ZK_SESSION_TIMEOUT": str(SESSION_TIMEOUT),
        "DRAIN_SECONDS": str(DRAIN_SECONDS),
    }
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "zkleader.wsgi:app"],
        cwd=REPO_ROOT / "services/api",
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield f"http://127.0.0.1:{port}", server
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        log.close()


def members(hosts: str, path: str) -> list[str]:
    client = KazooClient(hosts=hosts, timeout=SESSION_TIMEOUT)
    client.start(timeout=10)
    try:
        names: list[str] = client.get_children(path)
        return names
    finally:
        client.stop()
        client.close()


def leading(base: str) -> dict:  # type: ignore[type-arg]
    try:
        body: dict = requests.get(f"{base}/leader", timeout=2).json()  # type: ignore[type-arg]
    except requests.RequestException as exc:
        raise AssertionError(f"not answering: {exc}") from exc
    assert body["isLeader"] is True and body["state"] == "leader", body
    return body


def test_several_workers_one_participant_takeover_and_graceful_exit(
    instance: tuple[str, subprocess.Popen[bytes]], zookeeper: ZooKeeper, election_path: str, tmp_path: Path
) -> None:
    base, server = instance
    first = eventually(lambda: leading(base), timeout=30)
    assert len(members(zookeeper.hosts, election_path)) == 1
    # New connections land on different workers: all answer alike.
    answers = {json.dumps(requests.get(f"{base}/leader", timeout=2).json(), sort_keys=True) for _ in range(30)}
    assert len(answers) == 1, answers
    assert [p["instance"] for p in requests.get(f"{base}/cluster", timeout=5).json()["participants"]] == ["local1"]

    # Kill the worker that runs the participant: another worker takes over.
    owner = json.loads((tmp_path / "state" / "state.json").read_text())["pid"]
    os.kill(owner, signal.SIGKILL)

    def taken_over() -> None:
        state = json.loads((tmp_path / "state" / "state.json").read_text())
        expect(state["pid"] != owner, "no other worker took over yet")
        body = leading(base)
        expect(body["epoch"] > first["epoch"], "still the old grant")
        expect(len(members(zookeeper.hosts, election_path)) == 1, "the dead worker's node is still there")

    eventually(taken_over, timeout=3 * SESSION_TIMEOUT)

    # SIGTERM: the participant closes, its node is deleted at once.
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=15) == 0
    assert members(zookeeper.hosts, election_path) == []


def primary_code(base: str) -> int:
    code: int = requests.options(f"{base}/primary", timeout=2).status_code
    return code


def test_sigterm_drains_with_primary_404_then_stops_listening_then_hands_over(
    instance: tuple[str, subprocess.Popen[bytes]], zookeeper: ZooKeeper, election_path: str
) -> None:
    """The graceful stop as a load balancer sees it (zkleader.runtime.stopping):
    first every worker still serves while /primary answers 404 (still leading,
    send no more), then the port is closed, then the member node goes."""
    base, server = instance
    eventually(lambda: leading(base), timeout=30)
    assert primary_code(base) == 200
    server.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    eventually(lambda: expect(primary_code(base) == 404, "not draining yet"), timeout=DRAIN_SECONDS / 2, interval=0.02)
    codes: set[int] = set()
    while time.monotonic() - signalled < DRAIN_SECONDS * 0.7:  # new connections: every worker
        codes.add(primary_code(base))
        assert leading(base)["isLeader"] is True
    assert codes == {404}
    assert len(members(zookeeper.hosts, election_path)) == 1, "handed over before the drain ended"

    def refused() -> None:
        try:
            requests.get(f"{base}/leader", timeout=1)
        except requests.ConnectionError:
            return
        raise AssertionError("still accepting connections")

    eventually(refused, timeout=DRAIN_SECONDS + 5, interval=0.05)
    assert time.monotonic() - signalled >= DRAIN_SECONDS * 0.9
    assert server.wait(timeout=15) == 0
    assert members(zookeeper.hosts, election_path) == []


def live(base: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    try:
        response = requests.get(f"{base}/health/live", timeout=3)
    except requests.RequestException as exc:
        raise AssertionError(f"not answering: {exc}") from exc
    return response.status_code, response.json()


def test_defect10_liveness_fails_while_the_participant_is_wedged(
    instance: tuple[str, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    base, _server = instance
    eventually(lambda: leading(base), timeout=30)
    code, body = live(base)
    assert code == 200 and body["alive"] is True, body

    # Freeze the worker that runs the participant: the other workers still
    # answer, and must report the container as not live.
    owner = json.loads((tmp_path / "state" / "state.json").read_text())["pid"]
    os.kill(owner, signal.SIGSTOP)
    try:

        def not_live() -> None:
            code, body = live(base)
            expect(code == 503 and body["alive"] is False, f"{code} {body}")

        eventually(not_live, timeout=10)
    finally:
        os.kill(owner, signal.SIGCONT)

    def live_again() -> None:
        code, body = live(base)
        expect(code == 200, f"{code} {body}")

    eventually(live_again, timeout=3 * SESSION_TIMEOUT)
