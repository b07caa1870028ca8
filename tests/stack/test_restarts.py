"""Restarting things while ZooKeeper is degraded: what an operator does, and what the records say after.

An instance must start whenever a quorum of the ensemble serves, whatever the
health of any single server (compose's ``zk-quorum`` one-shot, not each
server's health, gates it). And a killed leader's term, as its restarted
container records it, must end before its successor's began.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.support.compose import run
from tests.support.waiting import eventually, expect

from .conftest import INSTANCES, SESSION_TIMEOUT, Stack, sole_leader
from .records import assert_invariants

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("journal_writers")]

# A restarted instance: its container starts (gunicorn, the participant), finds
# the quorum and enrols behind the leader. Bounded, not a target.
REJOIN_BOUND = 30.0
# A SIGKILLed leader's session expires after T (rounded to the tick); bound 1.5 T + 1 s.
SUCCESSOR_BOUND = 1.5 * SESSION_TIMEOUT + 1.0


def health(stack: Stack, service: str) -> str:
    info = json.loads(run(["docker", "inspect", stack.container(service)]))[0]
    return str(info["State"].get("Health", {}).get("Status", "none"))


@contextmanager
def one_zookeeper_server(stack: Stack, fault: str) -> Iterator[str]:
    """One ZooKeeper server other than the ensemble's leader is killed, or paused
    until Docker reports it unhealthy; brought back afterwards."""
    server = next(s for s in ("zk1", "zk2", "zk3") if stack.zk_mode(s) == "follower")
    if fault == "killed":
        stack.compose("kill", server)
    else:
        stack.pause(server)
        eventually(lambda: expect(health(stack, server) == "unhealthy", "not unhealthy yet"), timeout=30)
    try:
        yield server
    finally:
        stack.compose("start" if fault == "killed" else "unpause", server)
        eventually(lambda: expect(stack.zk_mode(server) is not None, f"{server} not serving"), timeout=60)


@pytest.mark.parametrize("fault", ["killed", "unhealthy"])
def test_a_killed_instance_restarts_and_follows_while_one_zookeeper_server_is_down(stack: Stack, fault: str) -> None:
    leader, view = eventually(lambda: sole_leader(stack), timeout=60)
    follower = next(name for name in INSTANCES if name != leader)
    with one_zookeeper_server(stack, fault) as server:
        stack.compose("kill", follower)
        # Compose used to refuse here: "dependency failed to start: container ...-zk1-1 is unhealthy".
        stack.compose("start", follower)
        eventually(
            lambda: expect(
                (stack.leader_view(follower) or {}).get("state") == "follower",
                f"{follower} does not follow while {server} is {fault}",
            ),
            timeout=REJOIN_BOUND,
        )
        # The same term goes on. Polled: on a loaded machine the leader's lease may
        # lapse for a moment between two renewals (isLeader false, state leader).
        still, now = eventually(lambda: sole_leader(stack), timeout=SESSION_TIMEOUT)
        assert (still, now["epoch"]) == (leader, view["epoch"]), now
    assert_invariants(stack)


def test_a_leader_killed_with_its_zookeeper_server_ends_its_term_before_its_successor_began(stack: Stack) -> None:
    old, _ = eventually(lambda: sole_leader(stack), timeout=60)
    server = stack.connected_zk_server(old)
    assert server is not None, f"cannot tell which server {old} is connected to"
    stack.compose("kill", server, old)  # together, as the random schedule did
    try:
        eventually(lambda: sole_leader(stack, [n for n in INSTANCES if n != old]), timeout=SUCCESSOR_BOUND + 5)
    finally:
        stack.compose("start", server, old)
    eventually(lambda: expect(stack.zk_mode(server) is not None, f"{server} not serving"), timeout=60)
    eventually(
        lambda: expect((stack.leader_view(old) or {}).get("state") == "follower", f"{old} does not follow"),
        timeout=REJOIN_BOUND,
    )
    terms = assert_invariants(stack)  # no two terms of the three instances overlap
    killed = [t for t in terms if t.instance == old and t.reason == "process ended"]
    assert killed, f"no term of {old} ended by the kill: {terms}"
