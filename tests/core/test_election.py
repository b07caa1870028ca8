"""The election recipe against a real ZooKeeper server (no mocks of kazoo)."""

from __future__ import annotations

import pytest
from kazoo.client import KazooClient

from zkleader.election import ElectionState, LeaderElection
from zkleader.election.lease import now

from .conftest import (
    SESSION_TIMEOUT,
    Participants,
    ZooKeeper,
    assert_sees_leader,
    assert_sole_leader,
    eventually,
    single_leader,
)

pytestmark = pytest.mark.zookeeper


def test_exactly_one_leader_among_five_and_all_agree_on_it(participants: Participants, election_path: str) -> None:
    group = [participants.start(election_path, f"p{i}") for i in range(5)]

    leader = eventually(lambda: single_leader(group))

    def everyone_agrees() -> None:
        for e in group:
            assert e.status.leader is not None
            assert e.status.leader.instance == leader.identity.instance
            assert e.status.epoch == leader.status.epoch
            assert e.status.state is (ElectionState.LEADER if e is leader else ElectionState.FOLLOWER)

    eventually(everyone_agrees)
    listed = leader.participants()
    assert listed[0].instance == leader.identity.instance
    assert sorted(p.instance for p in listed) == sorted(f"p{i}" for i in range(5))
    assert [p.is_leader for p in listed] == [True, False, False, False, False]
    assert [p.sequence for p in listed] == sorted(p.sequence for p in listed)


def test_close_hands_over_to_the_next_member_with_a_higher_epoch(
    participants: Participants, election_path: str
) -> None:
    first = participants.start(election_path, "first")
    eventually(lambda: single_leader([first]))
    second = participants.start(election_path, "second")
    eventually(lambda: assert_sees_leader(second, "first", first.status.epoch))  # enrolled before third
    third = participants.start(election_path, "third")
    eventually(lambda: assert_sees_leader(third, "first", first.status.epoch))
    old_epoch = first.status.epoch
    assert old_epoch is not None

    first.close()

    assert first.status.state is ElectionState.STOPPED and not first.is_leader
    eventually(lambda: assert_sole_leader([second, third], second), 2.0)
    assert second.status.epoch is not None and second.status.epoch > old_epoch
    # The follower that does not watch the old leader still learns the new one.
    eventually(lambda: assert_sees_leader(third, "second", second.status.epoch))
    assert participants.events["first"].revoked[-1][0] == "closed"
    assert participants.events["first"].revoked[-1][1] <= participants.events["second"].elected[-1][1]


def test_server_side_session_expiry_re_enrols_with_a_new_node_and_higher_epoch(
    participants: Participants, election_path: str, zookeeper: ZooKeeper
) -> None:
    leader = participants.start(election_path, "leader")
    eventually(lambda: single_leader([leader]))
    follower = participants.start(election_path, "follower")
    eventually(lambda: assert_sees_leader(follower, "leader", leader.status.epoch))
    old_node, old_epoch = leader.status.node, leader.status.epoch
    assert old_epoch is not None

    _expire_session(zookeeper.hosts, leader)

    # The server deletes the expired session's node: the follower takes over...
    eventually(lambda: assert_sole_leader([leader, follower], follower))
    assert follower.status.epoch is not None and follower.status.epoch > old_epoch
    # ...and the expired participant comes back by itself, with a new node, as a follower.
    eventually(lambda: _assert_enrolled_follower(leader, old_node))
    # Attaching the twin drops our connection first (SUSPENDED), then the session
    # expires (LOST): either way the term ended before the successor's began.
    revoked_at = participants.events["leader"].revoked[-1][1]
    assert revoked_at <= participants.events["follower"].elected[-1][1]

    # Expire the new leader too: the re-enrolled participant leads with a still higher epoch.
    second_epoch = follower.status.epoch
    _expire_session(zookeeper.hosts, follower)
    eventually(lambda: assert_sole_leader([leader, follower], leader))
    assert leader.status.epoch is not None and leader.status.epoch > second_epoch


def _assert_enrolled_follower(election: LeaderElection, old_node: str | None) -> None:
    status = election.status
    assert status.state is ElectionState.FOLLOWER and status.enrolled
    assert status.node is not None and status.node != old_node


def _expire_session(hosts: str, election: LeaderElection) -> None:
    """Really expire a session on the server: attach a second client to the same
    session id and password, then close it (closing ends the session)."""
    session_id, password = election._client.client_id
    twin = KazooClient(hosts=hosts, client_id=(session_id, password), timeout=SESSION_TIMEOUT)
    twin.start(timeout=10)
    twin.stop()
    twin.close()


def test_defect3_an_already_started_client_works_and_its_negotiated_timeout_sizes_the_lease(
    participants: Participants, election_path: str
) -> None:
    # The server (tickTime 500 ms) clamps a 30 s request to 10 s; this client
    # negotiated before the election existed, so the election reads T from
    # kazoo's connection thread (compat.py), never assuming the requested 30 s.
    client = participants.client(timeout=30.0)
    client.start(timeout=10)
    election = participants.start(election_path, "early", client=client)
    eventually(lambda: single_leader([election]))
    assert election.status.session_timeout == 10.0
    deadline = election.status.lease_deadline
    assert deadline is not None and deadline - now() <= 5.0


def test_close_leaves_the_callers_client_connected_and_other_recipes_on_it_working(
    participants: Participants, election_path: str
) -> None:
    client = participants.client()
    client.start(timeout=10)
    lock = client.Lock(f"{election_path}-lock", "mine")
    assert lock.acquire(timeout=5)
    election = participants.start(election_path, "sharer", client=client)
    eventually(lambda: single_leader([election]))
    listeners = set(client.state_listeners)

    election.close()

    assert election.status.state is ElectionState.STOPPED and not election.is_leader
    assert client.connected, "the election closed the caller's client"
    assert client.get_children(election_path) == [], "our member node outlived close()"
    assert len(client.state_listeners) == len(listeners) - 1, "the election's listener is still on the client"
    assert lock.is_acquired and client.exists(f"{election_path}-lock") is not None
    lock.release()
    other = client.Lock(f"{election_path}-lock", "again")
    assert other.acquire(timeout=5)
    other.release()


def test_two_elections_share_one_client(participants: Participants, election_path: str) -> None:
    client = participants.client()
    first = participants.start(election_path, "first", client=client)
    eventually(lambda: single_leader([first]))
    second = participants.start(election_path, "second", client=client)
    eventually(lambda: assert_sees_leader(second, "first", first.status.epoch))
    assert second.status.state is ElectionState.FOLLOWER

    first.close()

    eventually(lambda: assert_sole_leader([first, second], second), 2.0)
    assert client.connected


def test_defect3_the_clamped_session_timeout_sizes_the_lease(participants: Participants, election_path: str) -> None:
    # Started after the election: T is read in the election's CONNECTED listener.
    election = participants.start(election_path, "clamped", client=participants.client(timeout=30.0))
    eventually(lambda: single_leader([election]))
    assert election.status.session_timeout == 10.0
    deadline = election.status.lease_deadline
    assert deadline is not None and deadline - now() <= 5.0
