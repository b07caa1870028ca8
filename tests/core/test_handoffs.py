"""Many handoffs: epochs keep rising, and each wakes exactly one participant."""

from __future__ import annotations

import pytest

from tests.support.waiting import expect

from .conftest import Participants, assert_sees_leader, eventually, single_leader

pytestmark = pytest.mark.zookeeper


def test_twenty_resign_handoffs_have_strictly_increasing_epochs_and_never_overlap(
    participants: Participants, election_path: str
) -> None:
    group = [participants.start(election_path, f"p{i}") for i in range(3)]
    eventually(lambda: single_leader(group))

    for _ in range(20):
        leader = single_leader(group)
        assert leader.resign()  # hands over and re-enrols at the tail
        eventually(lambda leader=leader: _assert_new_leader(group, leader))

    terms = sorted(
        (elected_at, epoch, name)
        for name, events in participants.events.items()
        for epoch, elected_at in events.elected
    )
    assert len(terms) == 21
    epochs = [epoch for _, epoch, _ in terms]
    assert epochs == sorted(set(epochs)), f"epochs not strictly increasing: {epochs}"
    # Each term ended (resigned) before the next one began.
    ends = sorted(at for events in participants.events.values() for _, at in events.revoked)
    for (elected_at, _, _), ended_at in zip(terms[1:], ends, strict=False):
        assert ended_at <= elected_at
    assert not any(e.resign() for e in group if not e.is_leader)


def _assert_new_leader(group: list, old) -> None:  # type: ignore[no-untyped-def, type-arg]
    assert single_leader(group) is not old


def test_twenty_participants_one_watch_notification_per_handoff(participants: Participants, election_path: str) -> None:
    group = []
    for i in range(20):
        group.append(participants.start(election_path, f"p{i:02d}"))
        eventually(lambda e=group[-1]: _assert_enrolled(e))  # join in a known order
    eventually(lambda: single_leader(group))

    for position in range(19):
        before = sum(e.status.election_notifications for e in group)
        leader = single_leader(group)
        assert leader is group[position]
        leader.close()
        successor, rest = group[position + 1], group[position + 1 :]
        eventually(lambda successor=successor, rest=rest: single_leader(rest) is successor or expect(False))
        # Let any stray notification arrive before counting.
        eventually(lambda s=successor: assert_sees_leader(group[-1], s.identity.instance, s.status.epoch))
        after = sum(e.status.election_notifications for e in group)
        assert after - before == 1, f"handoff {position}: {after - before} notifications"


def _assert_enrolled(election) -> None:  # type: ignore[no-untyped-def]
    assert election.status.enrolled
