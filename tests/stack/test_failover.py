"""One leader among three instances, and a new one after the leader dies."""

from __future__ import annotations

import time

import pytest

from tests.support.waiting import eventually, expect

from .conftest import INSTANCES, SESSION_TIMEOUT, Stack, sole_leader, write_result

pytestmark = pytest.mark.stack

KILLS = 5
# SIGKILL leaves the session to expire: session timeout, rounded up to the next
# tick (500 ms), then one round of notifications and checks. Bound generously.
FAILOVER_BOUND = SESSION_TIMEOUT * 3


def test_exactly_one_leader(stack: Stack) -> None:
    eventually(lambda: sole_leader(stack), timeout=60)


def test_killing_the_leader_elects_another_and_the_restarted_one_rejoins_as_follower(stack: Stack) -> None:
    timings = []
    for _ in range(KILLS):
        leader, view = eventually(lambda: sole_leader(stack), timeout=60)
        survivors = [name for name in INSTANCES if name != leader]

        killed_at = time.time()
        stack.compose("kill", leader)
        new_leader, new_view = eventually(lambda s=survivors: sole_leader(stack, s), timeout=FAILOVER_BOUND)
        assert new_view["epoch"] > view["epoch"]
        elected_at = stack.history(new_leader)[-1]["electedAt"]
        timings.append(round(elected_at - killed_at, 3))

        stack.compose("start", leader)
        stack.compose("up", "--wait", "--no-deps", leader)
        # It rejoins as a follower; the new leader keeps its term (same epoch).
        expected = (new_leader, new_view)
        eventually(lambda expected=expected: expect(sole_leader(stack) == expected), timeout=30)
        assert stack.history(new_leader)[-1]["endedAt"] is None

    write_result(
        "failover-kill",
        {"sessionTimeout": SESSION_TIMEOUT, "kills": KILLS, "failoverSeconds": timings},
    )
    assert all(0 < t < FAILOVER_BOUND for t in timings), timings


def test_graceful_stop_hands_over_within_a_second(stack: Stack) -> None:
    leader, view = eventually(lambda: sole_leader(stack), timeout=60)
    survivors = [name for name in INSTANCES if name != leader]

    stopped_at = time.time()
    stack.compose("stop", leader)
    new_leader, new_view = eventually(lambda: sole_leader(stack, survivors), timeout=5)
    handover = stack.history(new_leader)[-1]["electedAt"] - stopped_at
    old_term = _last_term_after_restart(stack, leader)
    write_result("failover-stop", {"handoverSeconds": round(handover, 3)})
    assert handover < 1.0, f"graceful handover took {handover:.3f}s"
    assert new_view["epoch"] > view["epoch"]
    assert old_term["reason"] == "closed"
    assert old_term["endedAt"] <= stack.history(new_leader)[-1]["electedAt"]


def _last_term_after_restart(stack: Stack, instance: str) -> dict:  # type: ignore[type-arg]
    """Start a stopped instance again and read the term it ended when stopped."""
    stack.compose("start", instance)
    stack.compose("up", "--wait", "--no-deps", instance)
    term: dict = stack.history(instance)[-1]  # type: ignore[type-arg]
    return term
