"""One leader among three instances, and another one after the leader dies or stops.

These are also fault scenarios 1-3 (hard kill, graceful stop, restart): after
every trial the invariants are checked from the instances' own records.
"""

from __future__ import annotations

import time

import pytest

from tests.support.stack import transition_after
from tests.support.waiting import eventually, expect

from .conftest import INSTANCES, SESSION_TIMEOUT, Stack, sole_leader
from .records import assert_invariants, write_scenario

# Two journal writers run through every scenario; the journal invariants are checked after it.
pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("journal_writers")]

KILLS = 5
STOPS = 3
# SIGKILL leaves the session to expire: T, rounded up to the next tick
# (500 ms), then a notification and a check. Bound: 1.5 T + 1 s.
KILL_BOUND = 1.5 * SESSION_TIMEOUT + 1.0
# A graceful stop deletes the leader's node and closes its session.
STOP_BOUND = 1.0


def test_exactly_one_leader(stack: Stack) -> None:
    eventually(lambda: sole_leader(stack), timeout=60)


def test_killing_the_leader_elects_another_and_the_restarted_one_rejoins_as_follower(stack: Stack) -> None:
    trials = []
    for _ in range(KILLS):
        leader, view = eventually(lambda: sole_leader(stack), timeout=60)
        survivors = [name for name in INSTANCES if name != leader]

        killed_at = time.time()
        stack.compose("kill", leader)
        new_leader, new_view = eventually(lambda s=survivors: sole_leader(stack, s), timeout=KILL_BOUND)
        assert new_view["epoch"] > view["epoch"]

        stack.compose("start", leader)
        # It rejoins as a follower; the new leader keeps its term (same epoch).
        expected = (new_leader, new_view)
        eventually(lambda expected=expected: expect(sole_leader(stack) == expected), timeout=30)
        terms = assert_invariants(stack)
        assert terms[-1].instance == new_leader and terms[-1].ended_at is None
        record = transition_after(terms, killed_at)
        assert record["oldLeader"] == leader and record["newLeader"] == new_leader, record
        assert record["newLeaderSeconds"] < KILL_BOUND
        trials.append(record)

    path = write_scenario("kill", {"sessionTimeout": SESSION_TIMEOUT, "boundSeconds": KILL_BOUND}, trials)
    print(f"failover after SIGKILL (s): {[t['newLeaderSeconds'] for t in trials]} -> {path}")


def test_graceful_stop_hands_over_within_a_second(stack: Stack) -> None:
    trials = []
    for _ in range(STOPS):
        leader, view = eventually(lambda: sole_leader(stack), timeout=60)
        survivors = [name for name in INSTANCES if name != leader]

        stopped_at = time.time()
        stack.compose("stop", leader)
        new_leader, new_view = eventually(lambda s=survivors: sole_leader(stack, s), timeout=5)
        assert new_view["epoch"] > view["epoch"]
        stack.compose("start", leader)
        eventually(lambda: sole_leader(stack), timeout=30)

        terms = assert_invariants(stack)
        record = transition_after(terms, stopped_at)
        assert record["oldLeader"] == leader and record["newLeader"] == new_leader, record
        old_term = next(t for t in reversed(terms) if t.instance == leader and t.ended_at is not None)
        assert old_term.reason == "closed", old_term
        assert record["newLeaderSeconds"] < STOP_BOUND, f"graceful handover took {record['newLeaderSeconds']}s"
        trials.append(record)

    write_scenario("stop", {"sessionTimeout": SESSION_TIMEOUT, "boundSeconds": STOP_BOUND}, trials)
