"""Many handoffs: epochs keep rising, and each wakes exactly one participant."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from kazoo.client import KazooClient
from kazoo.protocol.states import EventType

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


class WatchCounter:
    """Counts every watch notification from the server that kazoo delivers to
    the clients it wraps: the election's own counter is checked against an
    independent one. Not counted: the ``NONE`` events kazoo itself hands every
    watcher of a client that closes (the closing leader's own watch on the
    switchover designation), which wake nobody else."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def wrap(self, client: KazooClient) -> KazooClient:
        dispatch = client.handler.dispatch_callback

        def counted(callback: Any) -> Any:
            if callback.type == "watch" and callback.args[0].type != EventType.NONE:
                with self._lock:
                    self.count += 1
            return dispatch(callback)

        client.handler.dispatch_callback = counted
        return client


@pytest.mark.parametrize("track_leader", [True, False], ids=["tracking-leader", "election-only"])
def test_twenty_participants_one_election_notification_per_handoff(
    participants: Participants, election_path: str, track_leader: bool
) -> None:
    watches = WatchCounter()
    group = []
    for i in range(20):
        client = watches.wrap(participants.client())
        group.append(participants.start(election_path, f"p{i:02d}", client=client, track_leader=track_leader))
        eventually(lambda e=group[-1]: _assert_enrolled(e))  # join in a known order
    eventually(lambda: single_leader(group))
    time.sleep(0.5)

    for position in range(19):
        before = sum(e.status.election_notifications for e in group)
        watches_before = watches.count
        leader = single_leader(group)
        assert leader is group[position]
        leader.close()
        successor, rest = group[position + 1], group[position + 1 :]
        eventually(lambda successor=successor, rest=rest: single_leader(rest) is successor or expect(False))
        if track_leader:  # every follower hears of the new leader (one more notification each)
            eventually(lambda s=successor: assert_sees_leader(group[-1], s.identity.instance, s.status.epoch))
        time.sleep(0.3)  # let any stray notification arrive before counting
        after = sum(e.status.election_notifications for e in group)
        assert after - before == 1, f"handoff {position}: {after - before} election notifications"
        if not track_leader:
            delivered = watches.count - watches_before
            assert delivered == 1, f"handoff {position}: {delivered} watch notifications in all"


def _assert_enrolled(election) -> None:  # type: ignore[no-untyped-def]
    assert election.status.enrolled


def test_close_runs_after_handover_once_the_successor_can_lead_and_leaves_the_session_to_the_caller(
    participants: Participants, election_path: str
) -> None:
    """The term log's last write goes in ``after_handover``: the member node is
    already gone (the successor is not held back by it) and the session is
    still open (the write can still be made). The session is the caller's: it
    is still open after close() too."""
    group = [participants.start(election_path, f"p{i}") for i in range(2)]
    leader = eventually(lambda: single_leader(group))
    successor = next(e for e in group if e is not leader)
    eventually(lambda: expect(successor.status.node is not None, "the successor has not enrolled yet"))
    seen: dict[str, object] = {}

    def after_handover() -> None:
        seen["members"] = leader.client.get_children(election_path)  # still connected
        seen["connected"] = leader.client.connected

    leader.close(timeout=10.0, after_handover=after_handover)
    assert seen["connected"] is True
    assert isinstance(seen["members"], list) and len(seen["members"]) == 1, seen  # ours is gone
    eventually(lambda: expect(successor.is_leader, "the successor does not lead"))
    assert leader.client.connected  # the election never closes the caller's client
