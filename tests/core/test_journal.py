"""The fenced journal against a real ZooKeeper: fencing, idempotency,
retention, unknown outcomes."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError
from kazoo.security import ACL

from tests.support.waiting import expect
from zkleader.election import DigestCredentials, Fence, LeaderElection, election_acl
from zkleader.journal import AppendOutcome
from zkleader.journal.store import Journal

from .conftest import SESSION_TIMEOUT, Participants, ZooKeeper, eventually, single_leader

pytestmark = pytest.mark.zookeeper

CREDENTIALS = DigestCredentials("journal-test", "secret")


@pytest.fixture
def journal_root() -> str:
    return f"/tests/{uuid.uuid4().hex}/journal"


def secured_client(participants: Participants) -> KazooClient:
    return participants.client(auth_data=CREDENTIALS.auth_data())


def start_secured(participants: Participants, path: str, name: str) -> LeaderElection:
    return participants.start(path, name, client=secured_client(participants), acl=election_acl(CREDENTIALS))


def journal_of(election: LeaderElection, root: str, **kwargs: object) -> Journal:
    return Journal(
        election.client,
        root,
        election_acl(CREDENTIALS),
        instance=election.identity.instance,
        timeout=kwargs.pop("timeout", SESSION_TIMEOUT),  # type: ignore[arg-type]
        clock=time.time,
        **kwargs,  # type: ignore[arg-type]
    )


def shape(acl: list[ACL]) -> list[tuple[int, str, str]]:
    """An ACL as a reader without the password sees it (the server hides digests)."""
    return [(a.perms, a.id.scheme, a.id.id.split(":")[0]) for a in acl]


def fence_of(election: LeaderElection) -> Fence:
    fence = eventually(lambda: _some(election.fence()))
    return fence


def _some(fence: Fence | None) -> Fence:
    assert fence is not None, "not leading yet"
    return fence


def test_the_leader_appends_and_every_reader_sees_the_same_entries(
    participants: Participants, election_path: str, journal_root: str
) -> None:
    group = [start_secured(participants, election_path, name) for name in ("a", "b")]
    leader = eventually(lambda: single_leader(group))
    follower = next(e for e in group if e is not leader)
    fence = fence_of(leader)
    journal = journal_of(leader, journal_root)
    results = [journal.append(fence, f"m{i}") for i in range(5)]
    assert [r.outcome for r in results] == [AppendOutcome.APPENDED] * 5
    assert [r.entry.seq for r in results if r.entry] == [1, 2, 3, 4, 5]
    assert all(r.entry and r.entry.epoch == fence.epoch for r in results)
    assert all(r.entry and r.entry.instance == leader.identity.instance for r in results)

    seen_by_follower = journal_of(follower, journal_root).read(after=0, limit=100)
    assert [(e.seq, e.message) for e in seen_by_follower] == [(i + 1, f"m{i}") for i in range(5)]
    assert [e.seq for e in journal.read(after=2, limit=2)] == [3, 4]
    assert journal.read(after=5) == []


def test_the_journal_nodes_carry_the_election_acl(
    participants: Participants, election_path: str, journal_root: str
) -> None:
    leader = start_secured(participants, election_path, "a")
    fence = fence_of(leader)
    journal_of(leader, journal_root).append(fence, "hello", "k1")
    stranger = participants.client()
    stranger.start(timeout=10)
    try:
        for path in (journal_root, f"{journal_root}/head", f"{journal_root}/entries", f"{journal_root}/keys"):
            acl, _ = stranger.get_acls(path)
            assert shape(acl) == shape(election_acl(CREDENTIALS)), path
        entry = stranger.get_children(f"{journal_root}/entries")[0]
        acl, _ = stranger.get_acls(f"{journal_root}/entries/{entry}")
        assert shape(acl) == shape(election_acl(CREDENTIALS))
        with pytest.raises(NoAuthError):
            stranger.delete(f"{journal_root}/entries/{entry}")
    finally:
        stranger.stop()
        stranger.close()


def test_a_deposed_leader_cannot_commit_after_its_member_node_is_gone(
    participants: Participants, election_path: str, journal_root: str
) -> None:
    old = start_secured(participants, election_path, "old")
    eventually(lambda: single_leader([old]))
    successor = start_secured(participants, election_path, "new")
    old_fence = fence_of(old)
    old_journal = journal_of(old, journal_root)
    assert old_journal.append(old_fence, "before").outcome is AppendOutcome.APPENDED

    assert old.resign()  # deletes the old member node; its session stays connected
    eventually(lambda: expect(single_leader([old, successor]) is successor, "no successor yet"))
    eventually(lambda: _some(successor.fence()))

    # The old leader still holds its stale fence (think: a thread that read
    # it just before being deposed). Its transaction cannot commit.
    stale = old_journal.append(old_fence, "after, from the deposed leader", "stale-key")
    assert stale.outcome is AppendOutcome.NOT_LEADER and stale.entry is None
    fresh = journal_of(successor, journal_root).append(fence_of(successor), "after, from the successor", "stale-key")
    assert fresh.outcome is AppendOutcome.APPENDED and fresh.entry is not None
    assert fresh.entry.epoch > old_fence.epoch
    assert [(e.message, e.instance) for e in old_journal.read()] == [
        ("before", "old"),
        ("after, from the successor", "new"),
    ]


def test_a_leader_whose_session_expired_cannot_commit(
    participants: Participants, election_path: str, journal_root: str, zookeeper: ZooKeeper
) -> None:
    old = start_secured(participants, election_path, "old")
    eventually(lambda: single_leader([old]))
    old_fence = fence_of(old)
    journal = journal_of(old, journal_root)
    assert journal.append(old_fence, "one").outcome is AppendOutcome.APPENDED

    session_id, password = old.client.client_id
    twin = KazooClient(hosts=zookeeper.hosts, client_id=(session_id, password), timeout=SESSION_TIMEOUT)
    twin.start(timeout=10)
    twin.stop()
    twin.close()  # the server ends the session: the old member node is gone

    # The same client reconnects with a new session (and re-enrols); the old fence is dead.
    eventually(lambda: expect(old.client.connected and old.client.client_id[0] != session_id, "no new session yet"))
    assert journal.append(old_fence, "two").outcome is AppendOutcome.NOT_LEADER
    assert [e.message for e in journal.read()] == ["one"]


def test_an_idempotency_key_writes_once_and_replays_the_entry(
    participants: Participants, election_path: str, journal_root: str
) -> None:
    leader = start_secured(participants, election_path, "a")
    fence = fence_of(leader)
    journal = journal_of(leader, journal_root)
    first = journal.append(fence, "pay 10", "order-17")
    again = journal.append(fence, "pay 10", "order-17")
    assert first.outcome is AppendOutcome.APPENDED
    assert again.outcome is AppendOutcome.REPLAYED and again.entry == first.entry
    other = journal.append(fence, "pay 99", "order-17")
    assert other.outcome is AppendOutcome.CONFLICT and other.entry is None
    assert [e.message for e in journal.read()] == ["pay 10"]


def test_concurrent_appends_with_one_key_write_once(
    participants: Participants, election_path: str, journal_root: str
) -> None:
    leader = start_secured(participants, election_path, "a")
    fence = fence_of(leader)
    # Two journals on one client: two writers whose head caches race.
    journals = [journal_of(leader, journal_root) for _ in range(2)]
    outcomes: list[AppendOutcome] = []
    threads = [
        threading.Thread(target=lambda j=j: outcomes.append(j.append(fence, "same", "shared").outcome))
        for j in journals
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == sorted([AppendOutcome.APPENDED] + [AppendOutcome.REPLAYED] * 7)
    assert len(journals[0].read()) == 1


def test_retention_keeps_the_newest_entries_and_drops_their_keys(
    participants: Participants, election_path: str, journal_root: str
) -> None:
    leader = start_secured(participants, election_path, "a")
    fence = fence_of(leader)
    journal = journal_of(leader, journal_root, max_entries=5)
    for i in range(12):
        assert journal.append(fence, f"m{i}", f"key-{i}").outcome is AppendOutcome.APPENDED
    kept = journal.read(after=0, limit=1000)
    assert [e.seq for e in kept] == [8, 9, 10, 11, 12]
    assert len(leader.client.get_children(f"{journal_root}/entries")) == 5
    assert sorted(leader.client.get_children(f"{journal_root}/keys")) == sorted(
        f"key-{i}".encode().hex() for i in range(7, 12)
    )
    # Sequence numbers continue where they were, never reused.
    assert journal.append(fence, "next").entry is not None
    assert [e.seq for e in journal.read(after=10)] == [11, 12, 13]


def test_a_lost_reply_is_an_unknown_outcome_and_a_keyed_retry_resolves_it(
    participants: Participants, election_path: str, journal_root: str, zookeeper: ZooKeeper
) -> None:
    leader = start_secured(participants, election_path, "a")
    fence = fence_of(leader)
    journal = journal_of(leader, journal_root, timeout=0.5)
    assert journal.append(fence, "warm-up").outcome is AppendOutcome.APPENDED  # head cached: next append is one call

    zookeeper.pause()
    try:
        lost = journal.append(fence, "maybe", "retry-me")
    finally:
        zookeeper.unpause()
    assert lost.outcome is AppendOutcome.UNKNOWN and lost.entry is None
    assert "may or may not" in (lost.detail or "")

    def retried() -> AppendOutcome:
        outcome = journal.append(fence, "maybe", "retry-me").outcome
        assert outcome in (AppendOutcome.APPENDED, AppendOutcome.REPLAYED), outcome
        return outcome

    eventually(retried, timeout=SESSION_TIMEOUT * 2, interval=0.2)
    assert [e.message for e in journal.read()].count("maybe") == 1
