"""The cluster term log against a real ZooKeeper: fenced grants, clean ends, retention."""

from __future__ import annotations

import time

import pytest

from tests.support.waiting import expect
from zkleader.cluster.report import ClusterTerm
from zkleader.cluster.term_log import ClusterTermLog, FencedOut, term_log_path
from zkleader.election import Identity, LeaderElection
from zkleader.runtime.termlog import TermLogWriter

from .conftest import Participants, eventually, single_leader

pytestmark = pytest.mark.zookeeper


def test_the_leader_records_its_grant_and_a_deposed_one_cannot(participants: Participants, election_path: str) -> None:
    first = participants.start(election_path, "p1")
    second = participants.start(election_path, "p2")
    leader = eventually(lambda: single_leader([first, second]))
    fence = leader.fence()
    assert fence is not None and fence.member_path.startswith(f"{election_path}/")
    log = ClusterTermLog(leader.client, term_log_path(election_path), limit=3)
    term = ClusterTerm(fence.epoch, leader.identity.instance, leader.identity.address, time.time())
    log.record_grant(fence, term)
    log.record_grant(fence, term)  # idempotent: a retried write finds its entry
    assert log.recent() == [term]

    # Its member node gone (as after a session expiry), the same write is refused.
    leader.client.delete(fence.member_path)
    other = first if leader is second else second
    eventually(lambda: expect(single_leader([first, second]) is other))
    later = ClusterTerm(fence.epoch + 1, leader.identity.instance, leader.identity.address, time.time())
    with pytest.raises(FencedOut):
        log.record_grant(type(fence)(fence.member_path, later.epoch), later)
    assert [t.epoch for t in log.recent()] == [fence.epoch]


def test_clean_end_and_bounded_retention(participants: Participants, election_path: str) -> None:
    only = participants.start(election_path, "p1")
    eventually(lambda: single_leader([only]))
    fence = only.fence()
    assert fence is not None
    log = ClusterTermLog(only.client, term_log_path(election_path), limit=3)
    for n in range(5):  # same member node, made-up later epochs: retention is what is tested
        epoch = fence.epoch + n
        log.record_grant(type(fence)(fence.member_path, epoch), ClusterTerm(epoch, "p1", "http://p1:8000", 100.0 + n))
    kept = log.recent()
    assert [t.epoch for t in kept] == [fence.epoch + 2, fence.epoch + 3, fence.epoch + 4]
    assert log.record_end(fence.epoch + 4, "p1", 200.0, "resigned")
    assert not log.record_end(fence.epoch + 4, "p1", 201.0, "resigned"), "an ended term is not ended twice"
    assert not log.record_end(fence.epoch + 3, "someone-else", 201.0, "resigned")
    assert log.recent()[-1] == ClusterTerm(fence.epoch + 4, "p1", "http://p1:8000", 104.0, 200.0, "resigned")


def test_the_writer_records_grants_and_resignations_off_the_election_thread(
    participants: Participants, election_path: str
) -> None:
    writers: dict[str, TermLogWriter] = {}

    def elected(name: str, epoch: int, at: float) -> None:
        election = elections[name]
        writers[name].granted(election.fence(), at)

    def revoked(name: str, reason: str, at: float) -> None:
        writers[name].ended(elections[name].status.epoch, reason, at)

    elections: dict[str, LeaderElection] = {}
    for name in ("p1", "p2"):
        client = participants.client()
        writers[name] = TermLogWriter(ClusterTermLog(client, term_log_path(election_path)), name, f"http://{name}:8000")
        writers[name].start()
        elections[name] = LeaderElection(
            client,
            election_path,
            Identity(name, f"http://{name}:8000", time.time()),
            on_elected=lambda epoch, at, n=name: elected(n, epoch, at),
            on_revoked=lambda reason, at, n=name: revoked(n, reason, at),
        )
        participants.all.append(elections[name])
    for election in elections.values():
        election.start()
        election.client.start_async()  # the caller's client: started by the caller
    group = list(elections.values())
    first = eventually(lambda: single_leader(group))
    assert writers[first.identity.instance].flush(), "the grant is written before a hand-over (as the host does)"
    assert first.resign()
    second = eventually(lambda: single_leader(group))
    assert second is not first
    reader = ClusterTermLog(second.client, term_log_path(election_path))

    def recorded() -> list[ClusterTerm]:
        terms = reader.recent()
        assert [t.instance for t in terms] == [first.identity.instance, second.identity.instance], terms
        assert terms[0].reason == "resigned" and terms[0].ended_at is not None, terms
        assert terms[1].ended_at is None
        return terms

    eventually(recorded, timeout=10)
    for writer in writers.values():
        writer.close()
