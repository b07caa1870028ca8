"""A real ZooKeeper (the stack's image, standalone) for the election-core tests."""

from __future__ import annotations

import logging
import os
import shlex
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kazoo.client import KazooClient
from pytest_docker.plugin import get_docker_services

from tests.support.compose import REPO_ROOT, compose_command, pause, run
from tests.support.fresh_venv import fresh_venv
from tests.support.waiting import eventually as eventually
from zkleader.election import Identity, LeaderElection

SESSION_TIMEOUT = 4.0  # the stack's default; the server (tickTime 500 ms) grants 1-10 s


@dataclass(frozen=True)
class ZooKeeper:
    hosts: str
    compose: list[str]

    def pause(self) -> None:
        pause(self.compose, "zk")

    def unpause(self) -> None:
        run([*self.compose, "unpause", "zk"])


@pytest.fixture(scope="session")
def zookeeper() -> Iterator[ZooKeeper]:
    project = f"zkleader-core-{uuid.uuid4().hex[:8]}"
    command = compose_command(project, "tests/compose.zk.yaml")
    with get_docker_services(
        f"docker compose --project-directory {shlex.quote(str(REPO_ROOT))}",
        str(REPO_ROOT / "tests/compose.zk.yaml"),
        project,
        # ZKLEADER_TEST_NO_BUILD=1: use the image built already (no build, so
        # no registry lookup of the base image).
        ["up --no-build --wait" if os.environ.get("ZKLEADER_TEST_NO_BUILD") == "1" else "up --build --wait"],
        ["down -v"],
    ):
        port = run([*command, "port", "zk", "2181"]).strip().rsplit(":", 1)[1]
        yield ZooKeeper(hosts=f"127.0.0.1:{port}", compose=command)


@pytest.fixture
def election_path() -> str:
    """A fresh election path per test, so tests cannot see each other's nodes."""
    return f"/tests/{uuid.uuid4().hex}/election"


@dataclass
class Events:
    """What a participant's callbacks reported, in order."""

    elected: list[tuple[int, float]]
    revoked: list[tuple[str, float]]


class Participants:
    """Creates participants for a test and closes what is left at the end."""

    def __init__(self, hosts: str) -> None:
        self._hosts = hosts
        self.all: list[LeaderElection] = []
        self.clients: list[KazooClient] = []
        self.events: dict[str, Events] = {}

    def client(self, timeout: float = SESSION_TIMEOUT, **kwargs: Any) -> KazooClient:
        """A client that is not started; stopped and closed at the end of the test."""
        client = KazooClient(hosts=self._hosts, timeout=timeout, **kwargs)
        self.clients.append(client)
        return client

    def start(
        self,
        path: str,
        name: str,
        client: KazooClient | None = None,
        **kwargs: Any,
    ) -> LeaderElection:
        events = Events([], [])
        election = LeaderElection(
            client or self.client(),
            path,
            Identity(name, f"http://{name}:8000", time.time()),
            on_elected=lambda epoch, at: events.elected.append((epoch, at)),
            on_revoked=lambda reason, at: events.revoked.append((reason, at)),
            **kwargs,
        )
        self.events[name] = events
        election.start()
        if election.client not in self.clients:
            self.clients.append(election.client)
        # The client is the caller's: started after the election, as the runtime does.
        if election.client._stopped.is_set():
            election.client.start_async()
        self.all.append(election)
        return election

    def leave(self, election: LeaderElection) -> None:
        """Close the election, then end its session (as the runtime does)."""
        election.close()
        election.client.stop()
        election.client.close()

    def close_all(self) -> None:
        for election in self.all:
            election.close()
        for client in self.clients:
            client.stop()
            client.close()


@pytest.fixture
def participants(zookeeper: ZooKeeper) -> Iterator[Participants]:
    made = Participants(zookeeper.hosts)
    yield made
    made.close_all()


def leaders(elections: list[LeaderElection]) -> list[LeaderElection]:
    return [e for e in elections if e.is_leader]


def single_leader(elections: list[LeaderElection]) -> LeaderElection:
    found = leaders(elections)
    assert len(found) == 1, f"expected one leader, got {[e.identity.instance for e in found]}"
    return found[0]


logging.getLogger("kazoo").setLevel(logging.WARNING)


def assert_sole_leader(group: list[LeaderElection], expected: LeaderElection) -> None:
    assert single_leader(group) is expected


def assert_sees_leader(election: LeaderElection, instance: str, epoch: int | None) -> None:
    leader = election.status.leader
    assert leader is not None and leader.instance == instance
    assert election.status.epoch == epoch


@pytest.fixture(scope="session")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``venv(extras)``: the python of a fresh venv with ``./services/api[extras]``
    installed (tests/support/fresh_venv.py), made once per extras per session."""
    made: dict[str, Path] = {}

    def get(extras: str = "") -> Path:
        if extras not in made:
            made[extras] = fresh_venv(tmp_path_factory.mktemp(f"venv-{extras or 'base'}"), extras)
        return made[extras]

    return get
