"""zkleader.testing's fake kazoo client: its documented faults do what they say."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from kazoo.client import KazooState
from kazoo.exceptions import ConnectionLoss, NoNodeError

import zkleader.testing
from tests.support.waiting import eventually, expect
from zkleader import LeaderElection
from zkleader.testing import FakeKazooClient, FakeZooKeeper, fake_kazoo


def started(server: FakeZooKeeper | None = None) -> FakeKazooClient:
    client = FakeKazooClient(server)
    client.start()
    return client


@pytest.fixture
def states() -> Iterator[tuple[FakeKazooClient, list[KazooState]]]:
    client = started()
    seen: list[KazooState] = []
    client.add_listener(seen.append)
    yield client, seen
    client.unfreeze()
    client.stop()


def test_the_fake_is_public_in_zkleader_testing() -> None:
    assert zkleader.testing.FakeKazooClient is fake_kazoo.FakeKazooClient
    assert set(zkleader.testing.__all__) <= set(dir(fake_kazoo))
    for method in ("expire", "suspend", "reconnect", "lose_next_create_reply", "freeze", "unfreeze"):
        assert getattr(FakeKazooClient, method).__doc__, f"{method} is undocumented"


def test_expire_drops_the_ephemeral_nodes_and_reconnects_with_a_new_session(
    states: tuple[FakeKazooClient, list[KazooState]],
) -> None:
    client, seen = states
    client.create("/mine", b"x", ephemeral=True)
    client.create("/kept", b"y")
    before = client.client_id
    client.expire()
    assert seen == [KazooState.LOST, KazooState.CONNECTED]
    assert client.exists("/mine") is None and client.exists("/kept") is not None
    assert client.client_id is not None and before is not None and client.client_id[0] != before[0]


def test_suspend_fails_calls_and_reconnect_keeps_the_session(
    states: tuple[FakeKazooClient, list[KazooState]],
) -> None:
    client, seen = states
    client.create("/mine", b"x", ephemeral=True)
    session = client.client_id
    client.suspend()
    assert not client.connected
    with pytest.raises(ConnectionLoss):
        client.get("/mine")
    client.reconnect()
    assert seen == [KazooState.SUSPENDED, KazooState.CONNECTED]
    assert client.client_id == session and client.get("/mine")[0] == b"x"


def test_a_lost_create_reply_commits_the_node_but_raises_connection_loss() -> None:
    client = started()
    client.lose_next_create_reply()
    with pytest.raises(ConnectionLoss):
        client.create("/lost", b"x")
    assert client.get("/lost")[0] == b"x"
    assert client.create("/next", b"y") == "/next"  # one reply only


def test_lost_create_replies_can_be_several_and_lagging() -> None:
    server = FakeZooKeeper()
    client, other = started(server), started(server)
    client.lose_next_create_reply(2, lagging=True)
    for path in ("/a", "/b"):
        with pytest.raises(ConnectionLoss):
            client.create(path)
    with pytest.raises(NoNodeError):  # the server this client reached has not applied them yet
        client.get("/a")
    client.sync("/")
    assert client.exists("/a") is not None and client.exists("/b") is not None
    assert other.exists("/a") is not None
    with pytest.raises(ValueError):
        client.lose_next_create_reply(-1)


def test_freeze_hangs_calls_until_unfrozen(states: tuple[FakeKazooClient, list[KazooState]]) -> None:
    client, _ = states
    client.freeze()
    assert client.frozen
    done: list[object] = []
    caller = threading.Thread(target=lambda: done.append(client.create("/late", b"x")), daemon=True)
    caller.start()
    assert client.wait_until_a_call_hangs(timeout=2)
    time.sleep(0.05)
    assert not done and client.server.nodes.get("/late") is None
    client.unfreeze()
    caller.join(timeout=2)
    assert done == ["/late"] and not client.frozen


def test_freeze_can_name_the_operations_it_hangs(states: tuple[FakeKazooClient, list[KazooState]]) -> None:
    client, _ = states
    client.freeze({"sync"})
    client.create("/free", b"x")  # not frozen
    assert client.get("/free")[0] == b"x"
    caller = threading.Thread(target=lambda: client.sync("/"), daemon=True)
    caller.start()
    assert client.wait_until_a_call_hangs(timeout=2)
    client.unfreeze()
    caller.join(timeout=2)
    assert not caller.is_alive()


def test_no_call_hangs_when_nothing_is_frozen(states: tuple[FakeKazooClient, list[KazooState]]) -> None:
    client, _ = states
    assert not client.wait_until_a_call_hangs(timeout=0.05)


def test_a_frozen_leader_stops_leading_when_its_lease_ends_and_nobody_else_is_elected() -> None:
    server = FakeZooKeeper()
    clients = [FakeKazooClient(server, timeout=1.0) for _ in range(2)]
    for client in clients:
        client.start()  # the caller's to start: the election never does
    elections = [LeaderElection(c, "/app", f"p{i}", address=f"http://p{i}") for i, c in enumerate(clients)]
    elections[0].start()
    try:
        eventually(lambda: expect(elections[0].is_leader), timeout=3)
        elections[1].start()
        eventually(lambda: expect(elections[1].status.node is not None), timeout=3)
        clients[0].freeze()
        assert clients[0].wait_until_a_call_hangs(timeout=2)  # the lease renewal is stuck
        eventually(lambda: expect(elections[0].fence() is None), timeout=2)
        time.sleep(0.2)
        assert not elections[1].is_leader  # the frozen leader's session lives on
        clients[0].expire()  # the other faults still work while frozen: now it is gone
        eventually(lambda: expect(elections[1].is_leader), timeout=3)
        clients[0].unfreeze()
    finally:
        clients[0].unfreeze()
        for election in elections:
            election.close(timeout=2)
