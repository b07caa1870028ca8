"""Connection loss, interrupted creates, frozen leaders, unreachable servers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import ConnectionLoss

from tests.support.waiting import expect
from zkleader.election import ElectionState
from zkleader.election.naming import election_order

from .conftest import (
    SESSION_TIMEOUT,
    Participants,
    ZooKeeper,
    assert_sole_leader,
    eventually,
    single_leader,
)

pytestmark = pytest.mark.zookeeper


def test_connection_loss_steps_down_then_the_same_session_leads_again(
    participants: Participants, election_path: str, zookeeper: ZooKeeper
) -> None:
    # A longer session so that a pause can outlast the connection but not the session.
    timeout = 8.0
    leader = participants.start(election_path, "leader", client=participants.client(timeout=timeout))
    eventually(lambda: single_leader([leader]))
    node, epoch, session = leader.status.node, leader.status.epoch, leader._client.client_id

    zookeeper.pause()
    try:
        # The lease (half the session timeout) runs out first, then kazoo suspends.
        eventually(lambda: _assert_not_leader(leader), timeout=timeout)
        eventually(lambda: _assert_state(leader, ElectionState.SUSPENDED), timeout=timeout)
        # The status says SUSPENDED at once (kazoo's thread); on_revoked runs on
        # the election worker in its turn, which may still be in a failing call.
        revoked = participants.events["leader"].revoked
        eventually(lambda: expect(bool(revoked), "on_revoked not called yet"), timeout=timeout)
        assert revoked[-1][0] == "connection suspended"
    finally:
        zookeeper.unpause()

    # Same session, same node, same grant: no re-enrolment was needed.
    eventually(lambda: single_leader([leader]), timeout=timeout)
    assert leader._client.client_id == session
    assert leader.status.node == node
    assert leader.status.epoch == epoch


def _assert_not_leader(election: Any) -> None:
    assert not election.is_leader


def _assert_state(election: Any, state: ElectionState) -> None:
    assert election.status.state is state


class CutOffCreates(KazooClient):  # type: ignore[misc]
    """A real client whose first ``create`` reaches the server, but whose reply
    is replaced by ConnectionLoss: what a dropped connection does to a create."""

    cut_off = 1

    def create_async(self, *args: Any, **kwargs: Any) -> Any:
        result = super().create_async(*args, **kwargs)
        if self.cut_off:
            self.cut_off -= 1
            result.get(timeout=SESSION_TIMEOUT)  # the node now exists on the server
            lost = self.handler.async_result()
            lost.set_exception(ConnectionLoss("reply lost"))
            return lost
        return result


def test_a_create_cut_off_by_connection_loss_leaves_no_orphan(
    participants: Participants, election_path: str, zookeeper: ZooKeeper
) -> None:
    other = participants.start(election_path, "other")
    eventually(lambda: single_leader([other]))
    client = CutOffCreates(hosts=zookeeper.hosts, timeout=SESSION_TIMEOUT)
    victim = participants.start(election_path, "victim", client=client)

    eventually(lambda: _assert_state(victim, ElectionState.FOLLOWER))
    assert client.cut_off == 0, "the fault was not injected"
    observer = participants.client()
    observer.start()
    try:
        members = election_order(observer.get_children(election_path))
    finally:
        observer.stop()
        observer.close()
    assert len(members) == 2, f"orphan member nodes: {members}"
    assert members[1].name == victim.status.node

    other.close()  # and the adopted node really is the one that takes over
    eventually(lambda: assert_sole_leader([victim], victim))


FROZEN_PARTICIPANT = textwrap.dedent(
    """
    import sys, time
    from kazoo.client import KazooClient
    from zkleader.election import Identity, LeaderElection

    hosts, path = sys.argv[1], sys.argv[2]
    client = KazooClient(hosts=hosts, timeout=float(sys.argv[3]))
    election = LeaderElection(
        client, path,
        Identity("frozen", "http://frozen:8000", time.time()),
        on_revoked=lambda reason, at: print(f"revoked {at!r} {reason}", flush=True),
    )
    election.start()
    client.start_async()
    while True:
        print(f"sample {time.monotonic()!r} {election.is_leader}", flush=True)
        time.sleep(0.005)
    """
)


def test_a_leader_frozen_past_its_session_is_not_leader_when_it_wakes(
    participants: Participants, election_path: str, zookeeper: ZooKeeper, tmp_path: Any
) -> None:
    log_path = tmp_path / "frozen.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with open(log_path, "w") as log:
        child = subprocess.Popen(
            [sys.executable, "-c", FROZEN_PARTICIPANT, zookeeper.hosts, election_path, str(SESSION_TIMEOUT)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        eventually(lambda: _assert_last_sample(log_path, True))
        successor = participants.start(election_path, "successor")
        eventually(lambda: _assert_state(successor, ElectionState.FOLLOWER))

        os.kill(child.pid, signal.SIGSTOP)  # like `docker pause`: the process cannot notice
        frozen_at = time.monotonic()
        eventually(lambda: single_leader([successor]), timeout=SESSION_TIMEOUT * 3)
        assert time.monotonic() - frozen_at >= SESSION_TIMEOUT * 0.9
        resumed_at = time.monotonic()
        os.kill(child.pid, signal.SIGCONT)

        eventually(lambda: _assert_revoked(log_path))
        samples = _samples(log_path)
        before = [leading for at, leading in samples if at < frozen_at]
        after = [leading for at, leading in samples if at >= resumed_at]
        assert before and before[-1] is True
        assert after and not any(after), "the frozen leader claimed leadership after waking"
        ended_at = float(_lines(log_path, "revoked")[-1].split()[1])
        assert ended_at <= participants.events["successor"].elected[-1][1]
    finally:
        child.kill()
        child.wait()


def _lines(path: Any, kind: str) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.startswith(kind + " ")]


def _samples(path: Any) -> list[tuple[float, bool]]:
    result = []
    for line in _lines(path, "sample"):
        parts = line.split()
        if len(parts) == 3:
            result.append((float(parts[1]), parts[2] == "True"))
    return result


def _assert_last_sample(path: Any, leading: bool) -> None:
    samples = _samples(path)
    assert samples and samples[-1][1] is leading


def _assert_revoked(path: Any) -> None:
    assert _lines(path, "revoked")


def test_unreachable_zookeeper_at_start_keeps_connecting_without_crashing(
    participants: Participants, election_path: str
) -> None:
    # Port 1 on loopback: nothing listens, every attempt is refused at once.
    lonely = participants.start(election_path, "lonely", client=KazooClient(hosts="127.0.0.1:1", timeout=2.0))
    time.sleep(1.5)
    assert lonely.status.state is ElectionState.CONNECTING
    assert not lonely.is_leader
    started = time.monotonic()
    lonely.close()
    assert time.monotonic() - started < 5
    assert lonely.status.state is ElectionState.STOPPED
