"""The public library API against a real ZooKeeper: the caller's clients,
a handover on close, and run()'s ``leadership.lost``."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kazoo.client import KazooClient

from tests.core.conftest import SESSION_TIMEOUT, ZooKeeper
from zkleader import LeaderElection, Leadership

pytestmark = pytest.mark.zookeeper


class Owned:
    """Clients the test owns (started here, stopped at the end) and elections on them."""

    def __init__(self, hosts: str) -> None:
        self.hosts = hosts
        self.path = f"/tests/{uuid.uuid4().hex}/library"
        self.clients: list[KazooClient] = []
        self.elections: list[LeaderElection] = []

    def election(self, name: str) -> LeaderElection:
        client = KazooClient(hosts=self.hosts, timeout=SESSION_TIMEOUT)
        client.start(timeout=10)
        self.clients.append(client)
        election = LeaderElection(client, self.path, name, address=f"http://{name}:8000")
        self.elections.append(election)
        return election


@pytest.fixture
def owned(zookeeper: ZooKeeper) -> Iterator[Owned]:
    made = Owned(zookeeper.hosts)
    yield made
    for election in made.elections:
        election.close()
    for client in made.clients:
        client.stop()
        client.close()


def test_two_elections_one_leads_close_hands_over_within_a_second_and_keeps_the_client(owned: Owned) -> None:
    first, second = owned.election("lib-1"), owned.election("lib-2")
    first.start()
    second.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not (first.is_leader or second.is_leader):
        time.sleep(0.01)
    leaders = [e for e in (first, second) if e.is_leader]
    assert len(leaders) == 1
    leader = leaders[0]
    other = second if leader is first else first
    assert other.wait(0.2) is False
    assert other.leader == leader.identifier or other.leader is None
    closed_at = time.monotonic()
    leader.close()
    assert other.wait(1.0), "the other participant did not lead within 1 s of the close"
    assert time.monotonic() - closed_at < 1.0
    assert leader.client.connected, "close() must leave the caller's client connected"
    assert leader.client.exists(owned.path) is not None  # the client still works
    assert [p.instance for p in other.participants()] == [other.identifier]


def test_run_stopping_the_leaders_client_sets_lost_within_the_session_timeout(owned: Owned) -> None:
    first, second = owned.election("run-1"), owned.election("run-2")
    first.start()
    assert first.wait(10)
    second.start()
    elected = threading.Event()
    lost_after: dict[str, Any] = {}

    def work(leadership: Leadership) -> None:
        elected.set()
        lost_after["lost"] = leadership.lost.wait(3 * SESSION_TIMEOUT)
        lost_after["at"] = time.monotonic()

    runner = threading.Thread(target=first.run, args=(work,), daemon=True)
    runner.start()
    assert elected.wait(10)
    stopped_at = time.monotonic()
    first.client.stop()
    runner.join(3 * SESSION_TIMEOUT)
    assert lost_after.get("lost") is True
    assert lost_after["at"] - stopped_at < SESSION_TIMEOUT
    assert second.wait(2 * SESSION_TIMEOUT), "the second participant did not lead after the leader's client stopped"
