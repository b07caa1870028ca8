"""Switchover and observers on a real ZooKeeper: watches, ephemeral designations
and the order of notifications are the server's, not a fake's."""

from __future__ import annotations

import time

import pytest

from tests.support.waiting import expect
from zkleader.election import ElectionState, LeaderElection
from zkleader.election.switchover import SwitchoverRequester, designation_path

from .conftest import Participants, eventually, single_leader

pytestmark = pytest.mark.zookeeper


def _grants(participants: Participants) -> list[tuple[float, int, str]]:
    return sorted((at, epoch, name) for name, events in participants.events.items() for epoch, at in events.elected)


def test_a_candidate_third_in_the_queue_leads_next_and_nobody_else_between(
    participants: Participants, election_path: str
) -> None:
    group = []
    for i in range(1, 5):  # one after another: the queue is p1, p2, p3, p4
        group.append(participants.start(election_path, f"p{i}"))
        eventually(lambda n=i: expect(sum(1 for e in group if e.status.enrolled) == n), timeout=10)
    first = eventually(lambda: single_leader(group), timeout=10)
    assert first.identity.instance == "p1"
    old_epoch = first.status.epoch
    assert old_epoch is not None

    for round_, candidate in enumerate(["p3", "p2", "p1", "p4"], start=1):
        before = single_leader(group)
        asked = time.monotonic()
        SwitchoverRequester(group[1], 4.0).request(candidate, "test", 20.0)
        leader = eventually(lambda c=candidate: _led_by(group, c), timeout=10)
        took = time.monotonic() - asked
        assert took < 2.0, f"round {round_}: {took:.3f} s"
        # Only the candidate was granted leadership after the previous leader.
        grants = _grants(participants)
        assert [name for _, _, name in grants][-2:] == [before.identity.instance, candidate], grants
        assert leader.status.epoch is not None and leader.status.epoch > grants[-2][1]
        # The previous term ended (switchover) before the new one began.
        ended = [at for reason, at in participants.events[before.identity.instance].revoked if reason == "switchover"]
        assert ended and ended[-1] <= grants[-1][0], participants.events[before.identity.instance]
        eventually(lambda: expect(not group[0].client.exists(designation_path(election_path))), timeout=5)
        eventually(lambda: expect(all(e.status.enrolled for e in group)), timeout=10)

    epochs = [epoch for _, epoch, _ in _grants(participants)]
    assert epochs == sorted(set(epochs)), epochs


def _led_by(group: list[LeaderElection], candidate: str) -> LeaderElection:
    leader = single_leader(group)
    expect(leader.identity.instance == candidate, f"{leader.identity.instance} leads, not {candidate}")
    return leader


def test_an_observer_never_leads_and_knows_the_leader(participants: Participants, election_path: str) -> None:
    watcher = participants.start(election_path, "o1", observer=True)
    eventually(lambda: expect(watcher.status.state is ElectionState.OBSERVER), timeout=10)
    candidate = participants.start(election_path, "c1")
    eventually(lambda: expect(candidate.is_leader), timeout=10)
    eventually(lambda: expect(watcher.status.leader is not None and watcher.status.leader.instance == "c1"))
    assert [o.instance for o in candidate.observers()] == ["o1"]
    candidate.close()
    eventually(lambda: expect(watcher.status.leader is None), timeout=10)
    assert not watcher.is_leader and participants.events["o1"].elected == []
