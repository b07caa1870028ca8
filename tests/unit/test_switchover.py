"""Switchover and observers in the election core, against the fake kazoo client.

Participants run their real worker threads on one fake server; every test
records who was elected, in order, so "nobody else leads in between" is
checked on the elections themselves, not on a snapshot.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.waiting import eventually, expect
from tests.unit.test_election_faults import PATH, Blocker, Elections
from zkleader.election import ElectionState, Identity, LeaderElection
from zkleader.election.naming import member_prefix, new_participant_uid
from zkleader.election.observers import observers_path
from zkleader.election.switchover import (
    Designation,
    FirstSeen,
    SwitchoverRefused,
    SwitchoverRequester,
    designation_path,
    judge,
)
from zkleader.runtime.switchover_desk import SwitchoverDesk
from zkleader.testing import FakeKazooClient
from zkleader.web.routes import leader_body

DESIGNATION = designation_path(PATH)


class Recorded(Elections):
    """Participants whose grants and ends are logged in one shared order."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[str, str, Any]] = []

    def join(self, name: str, **kwargs: Any) -> LeaderElection:
        return self.start(
            name,
            on_elected=lambda epoch, at: self.log.append(("elected", name, epoch)),
            on_revoked=lambda why, at: self.log.append(("revoked", name, why)),
            **kwargs,
        )

    def elected(self) -> list[str]:
        return [who for what, who, _ in self.log if what == "elected"]

    def leaders(self) -> list[str]:
        return [e.identity.instance for e in self.all if e.is_leader]


@pytest.fixture
def elections() -> Iterator[Recorded]:
    made = Recorded()
    yield made
    made.close_all()


def queue_of(elections: Recorded, names: list[str]) -> list[LeaderElection]:
    """Start the participants one after another, so the queue is in this order."""
    joined = []
    for count, name in enumerate(names, start=1):
        joined.append(elections.join(name))
        eventually(lambda count=count: expect(len(elections.members()) == count), timeout=3)
    eventually(lambda: expect(elections.leaders() == [names[0]], f"leaders {elections.leaders()}"), timeout=3)
    return joined


def no_overlap_and_only_the_candidate_between(elections: Recorded, old: str, candidate: str) -> None:
    """Terms in order: the old leader's ends before the next begins, and the next is the candidate's."""
    grants = [i for i, entry in enumerate(elections.log) if entry[0] == "elected"]
    assert [elections.log[i][1] for i in grants][-2:] == [old, candidate], elections.log
    end_of_old = next(i for i, e in enumerate(elections.log) if e[:2] == ("revoked", old))
    assert end_of_old < grants[-1], elections.log
    assert elections.log[end_of_old][2] == "switchover", elections.log


# ------------------------------------------------------------ judging


def test_judge_leads_without_a_designation_or_when_named() -> None:
    mine = Designation("member-a-0000000003", "p3", "p1", 10.0)
    assert judge(None, 0.0, "member-a-0000000001", {"member-a-0000000001"}) == "lead"
    assert judge(mine, 0.0, "member-a-0000000003", {"member-a-0000000003"}) == "lead"


def test_judge_yields_to_a_standing_designation_of_another_member() -> None:
    other = Designation("member-c-0000000003", "p3", "p1", 10.0)
    members = {"member-b-0000000002", "member-c-0000000003"}
    assert judge(other, 9.9, "member-b-0000000002", members) == "yield"


def test_judge_calls_stale_a_gone_candidate_or_an_expired_designation() -> None:
    other = Designation("member-c-0000000003", "p3", "p1", 10.0)
    assert judge(other, 0.0, "member-b-0000000002", {"member-b-0000000002"}) == "stale"
    members = {"member-b-0000000002", "member-c-0000000003"}
    assert judge(other, 10.1, "member-b-0000000002", members) == "stale"


def test_the_duration_runs_on_the_readers_clock_from_first_sight() -> None:
    seen = FirstSeen()
    assert seen.elapsed(czxid=7, now=100.0) == 0.0
    assert seen.elapsed(czxid=7, now=103.5) == 3.5
    assert seen.elapsed(czxid=8, now=104.0) == 0.0  # a new request: its own clock


def test_designation_data_round_trips_and_garbage_is_none() -> None:
    d = Designation("member-c-0000000003", "p3", "p1", 12.0)
    assert Designation.from_bytes(d.to_bytes()) == d
    assert Designation.from_bytes(b"{}") is None
    assert Designation.from_bytes(b"not json") is None
    assert Designation.from_bytes(Designation("n", "p", "r", 0.0).to_bytes()) is None


# ------------------------------------------------------------ hand-over


@pytest.mark.parametrize("place", [2, 3, 4])
def test_the_candidate_leads_next_wherever_it_stands(elections: Recorded, place: int) -> None:
    names = [f"p{i}" for i in range(1, 5)]
    joined = queue_of(elections, names)
    old_epoch = joined[0].status.epoch
    assert old_epoch is not None
    candidate = names[place - 1]

    SwitchoverRequester(joined[0], 4.0).request(candidate, "p1", 10.0)

    eventually(lambda: expect(elections.leaders() == [candidate], f"leaders {elections.leaders()}"), timeout=3)
    no_overlap_and_only_the_candidate_between(elections, "p1", candidate)
    new = joined[place - 1].status
    assert new.epoch is not None and new.epoch > old_epoch
    # The candidate cleared the request; the old leader follows at the tail.
    eventually(lambda: expect(DESIGNATION not in elections.server.nodes), timeout=2)
    eventually(lambda: expect(joined[0].status.state is ElectionState.FOLLOWER), timeout=2)
    eventually(lambda: expect(len(elections.members()) == len(names)), timeout=2)
    assert elections.members()[-1] == joined[0].status.node or joined[0].status.node in elections.members()


def test_a_designation_whose_candidate_is_gone_is_deleted_and_the_next_member_leads(elections: Recorded) -> None:
    joined = queue_of(elections, ["p1", "p2", "p3"])
    gone = Designation("member-0123456789abcdef0123456789abcdef-0000009999", "p9", "p2", 10.0)
    joined[1].client.create(DESIGNATION, gone.to_bytes(), ephemeral=True)
    # The leader judges it on its watch: stale, deleted, and it keeps leading.
    eventually(lambda: expect(DESIGNATION not in elections.server.nodes), timeout=2)
    assert elections.leaders() == ["p1"] and elections.elected() == ["p1"]


def test_a_garbage_designation_never_blocks_the_election(elections: Recorded) -> None:
    joined = queue_of(elections, ["p1", "p2"])
    joined[1].client.create(DESIGNATION, b"garbage", ephemeral=True)
    eventually(lambda: expect(DESIGNATION not in elections.server.nodes), timeout=2)
    joined[0].resign()
    eventually(lambda: expect(elections.leaders() == ["p2"]), timeout=2)


def test_a_requester_that_dies_takes_its_request_with_it(elections: Recorded) -> None:
    """The designation is ephemeral to the requester's session."""
    joined = queue_of(elections, ["p1", "p2", "p3"])
    blocked = joined[2]
    # Freeze the candidate's worker so the hand-over cannot finish, then end the requester.
    blocker = Blocker("sync")
    blocked.client.hook = blocker
    SwitchoverRequester(joined[1], 4.0).request("p3", "p2", 60.0)
    assert DESIGNATION in elections.server.nodes
    elections.leave(joined[1])  # the requester (p2, yielding anyway) leaves: its session ends
    blocker.unblock()
    eventually(lambda: expect(DESIGNATION not in elections.server.nodes), timeout=2)
    eventually(lambda: expect(len(elections.leaders()) == 1), timeout=3)


# ------------------------------------------------------------ refusals


def test_refusals_say_which_rule(elections: Recorded) -> None:
    joined = queue_of(elections, ["p1", "p2"])
    watcher = elections.start("o1", observer=True)
    eventually(lambda: expect(watcher.status.state is ElectionState.OBSERVER), timeout=2)
    requester = SwitchoverRequester(joined[1], 4.0)

    def refusal(candidate: str, known: set[str] | None = None) -> tuple[str, str]:
        with pytest.raises(SwitchoverRefused) as refused:
            requester.request(candidate, "p2", 10.0, lambda: known or set())
        return refused.value.kind, str(refused.value)

    assert refusal("nobody") == ("not-eligible", "nobody is unknown: no such member")
    assert refusal("o1") == ("not-eligible", "o1 is an observer: it never leads")
    assert refusal("p1") == ("not-eligible", "p1 is already the leader")
    assert refusal("p7", {"p7"}) == ("not-eligible", "p7 is not enrolled in the election right now")


def test_a_second_request_while_one_stands_is_busy(elections: Recorded) -> None:
    joined = queue_of(elections, ["p1", "p2", "p3"])
    blocker = Blocker("sync")  # the candidate cannot take over yet: the first request stands
    joined[2].client.hook = blocker
    requester = SwitchoverRequester(joined[1], 4.0)
    requester.request("p3", "p2", 10.0)
    for candidate in ("p1", "p2", "p3", "nobody"):  # busy first, whatever the candidate
        with pytest.raises(SwitchoverRefused) as refused:
            requester.request(candidate, "p2", 10.0)
        assert refused.value.kind == "busy" and str(refused.value) == "a switchover is already running"
    blocker.unblock()
    eventually(lambda: expect(elections.leaders() == ["p3"]), timeout=3)
    assert elections.elected() == ["p1", "p3"]


# ------------------------------------------------------------ the desk


def fetch_from(elections: Recorded) -> Any:
    """``GET /leader`` of the fake participants, by advertised address."""

    def fetch(address: str, timeout: float) -> dict[str, Any]:
        election = next(e for e in elections.all if e.identity.address == address)
        return leader_body(election.status)

    return fetch


def test_the_desk_answers_once_both_instances_report_the_hand_over(elections: Recorded) -> None:
    joined = queue_of(elections, ["p1", "p2", "p3"])
    old_epoch = joined[0].status.epoch
    desk = SwitchoverDesk(joined[1], lambda: set(), fetch=fetch_from(elections))

    started = time.monotonic()
    result = desk.switchover("p3")

    assert result.outcome == "done", result
    assert result.detail["leader"] == "p3" and result.detail["epoch"] == joined[2].status.epoch
    assert result.detail["previous"] == {"instance": "p1", "epoch": old_epoch, "state": "follower"}
    assert time.monotonic() - started < 2
    assert joined[2].is_leader and not joined[0].is_leader
    assert DESIGNATION not in elections.server.nodes  # withdrawn, or cleared by the candidate
    assert desk.switchover("p3").outcome == "not-eligible"


def test_the_desk_gives_up_withdraws_and_says_who_leads(elections: Recorded, monkeypatch: pytest.MonkeyPatch) -> None:
    joined = queue_of(elections, ["p1", "p2"])
    monkeypatch.setattr("zkleader.runtime.switchover_desk.switchover_wait", lambda timeout: 0.3)
    # The candidate never confirms: its /leader does not answer.
    desk = SwitchoverDesk(joined[0], lambda: set(), fetch=lambda address, timeout: {})
    result = desk.switchover("p2")
    assert result.outcome == "not-completed"
    assert "did not complete" in result.message and "leads" in result.message
    assert DESIGNATION not in elections.server.nodes


# ------------------------------------------------------------ observers


def test_an_observer_knows_the_leader_never_enrols_and_is_registered(elections: Recorded) -> None:
    watcher = elections.start("o1", observer=True)
    eventually(lambda: expect(watcher.status.state is ElectionState.OBSERVER), timeout=2)
    assert watcher.status.leader is None and elections.members() == []
    assert f"{observers_path(PATH)}/o1" in elections.server.nodes
    assert [o.instance for o in watcher.observers()] == ["o1"]

    candidate = elections.join("p1")
    eventually(lambda: expect(candidate.is_leader), timeout=2)
    eventually(lambda: expect(watcher.status.leader is not None and watcher.status.leader.instance == "p1"), timeout=2)
    status = watcher.status
    assert status.epoch == candidate.status.epoch and status.role == "observer" and not status.enrolled
    assert not watcher.is_leader and watcher.resign() is False
    assert len(elections.members()) == 1  # the observer has no member node

    candidate.close(timeout=2)  # the only candidate leaves: nobody leads, and the observer says so
    eventually(lambda: expect(watcher.status.leader is None), timeout=2)
    assert watcher.status.state is ElectionState.OBSERVER and not watcher.is_leader
    again = elections.join("p1")
    eventually(lambda: expect(again.is_leader), timeout=2)
    eventually(lambda: expect(watcher.status.leader is not None and watcher.status.leader.instance == "p1"), timeout=2)
    assert elections.elected() == ["p1", "p1"]


def test_an_observer_re_registers_after_its_session_expires(elections: Recorded) -> None:
    client = elections.client()
    watcher = elections.start("o1", client=client, observer=True)
    eventually(lambda: expect(watcher.status.state is ElectionState.OBSERVER), timeout=2)
    client.expire()
    node = f"{observers_path(PATH)}/o1"

    def registered_again() -> None:
        expect(node in elections.server.nodes and watcher.status.state is ElectionState.OBSERVER)
        expect(elections.server.nodes[node].owner == client.client_id[0])  # type: ignore[index]

    eventually(registered_again, timeout=2)


def test_a_switchover_whose_designation_reply_was_lost_is_reported_done(elections: Recorded) -> None:
    joined = queue_of(elections, ["p1", "p2", "p3"])
    client = joined[1].client
    assert isinstance(client, FakeKazooClient)
    client.lose_create_replies = 1  # the designation's create commits; its reply is lost
    desk = SwitchoverDesk(joined[1], lambda: set(), fetch=fetch_from(elections))

    result = desk.switchover("p3")

    assert result.outcome == "done", result
    assert joined[2].is_leader and not joined[0].is_leader
    assert DESIGNATION not in elections.server.nodes


def test_a_switchover_to_a_candidate_with_a_dead_process_node_never_leaves_the_election_leaderless(
    elections: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    leader = elections.join("p1")
    eventually(lambda: expect(elections.leaders() == ["p1"]), timeout=3)
    # p2's previous process died; its session has not expired yet, so its node stays in the queue.
    dead = elections.client()
    dead.start()
    dead.create(
        f"{PATH}/{member_prefix(new_participant_uid())}",
        Identity("p2", "http://p2:8000", 0.0).to_bytes(),
        ephemeral=True,
        sequence=True,
    )
    elections.join("p2")  # the container's next process re-enrols
    eventually(lambda: expect(len(elections.members()) == 3), timeout=3)
    monkeypatch.setattr("zkleader.runtime.switchover_desk.switchover_wait", lambda timeout: 0.5)
    desk = SwitchoverDesk(leader, lambda: set(), fetch=fetch_from(elections))

    result = desk.switchover("p2")

    assert result.outcome in ("done", "not-eligible"), result
    eventually(lambda: expect(len(elections.leaders()) == 1, f"leaders: {elections.leaders()}"), timeout=1)
