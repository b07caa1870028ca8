"""The election state machine against a fault-injecting fake kazoo client.

Each test names the defect of issue 10 it pins down. They run the real worker
thread and wait with bounded waits; none needs Docker.
"""

from __future__ import annotations

import errno
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kazoo.client import KazooState
from kazoo.exceptions import BadVersionError, ConnectionLoss

from tests.support.waiting import eventually, expect
from zkleader.cluster.term_log import decode_term, term_log_path
from zkleader.config import Settings
from zkleader.election import ElectionState, Identity, LeaderElection, LeaderInfo, Status
from zkleader.election.leader_record import decode as leader_record_decode
from zkleader.election.naming import election_order
from zkleader.runtime import host as host_module
from zkleader.runtime import worker as runtime_worker
from zkleader.runtime.ownership import ParticipantLock
from zkleader.runtime.paths import RuntimePaths
from zkleader.runtime.view import SharedView
from zkleader.testing import FakeKazooClient, FakeZooKeeper
from zkleader.web import create_app

PATH = "/election"


class Elections:
    """Creates participants on one fake server and closes them at the end."""

    def __init__(self) -> None:
        self.server = FakeZooKeeper()
        self.all: list[LeaderElection] = []
        self.clients: list[FakeKazooClient] = []

    def client(self, timeout: float = 4.0) -> FakeKazooClient:
        return FakeKazooClient(self.server, timeout=timeout)

    def make(self, name: str = "p1", client: FakeKazooClient | None = None, **kwargs: Any) -> LeaderElection:
        client = client or self.client()
        election = LeaderElection(client, PATH, Identity(name, f"http://{name}:8000", time.time()), **kwargs)
        self.all.append(election)
        self.clients.append(client)
        return election

    def start(self, name: str = "p1", client: FakeKazooClient | None = None, **kwargs: Any) -> LeaderElection:
        """Start the election, then its client (the caller owns the client)."""
        election = self.make(name, client, **kwargs)
        election.start()
        fake: FakeKazooClient = election.client  # type: ignore[assignment]
        if not fake.started:
            fake.start()
        return election

    def leave(self, election: LeaderElection, timeout: float = 2.0) -> None:
        """Close the election, then end its client's session (as the host does)."""
        election.close(timeout=timeout)
        election.client.stop()

    def members(self) -> list[str]:
        return [m.name for m in election_order(self.server.children(PATH, synced=True))]

    def close_all(self) -> None:
        for election in self.all:
            election.close(timeout=2)
        for client in self.clients:
            client.stop()


@pytest.fixture
def elections() -> Iterator[Elections]:
    made = Elections()
    yield made
    made.close_all()


def leads_alone(elections: Elections, election: LeaderElection) -> None:
    members = elections.members()
    expect(len(members) == 1, f"member nodes: {members}")
    expect(election.is_leader, f"not leader: {election.status}")
    expect(election.status.node == members[0], f"own node {election.status.node} is not {members[0]}")


# ------------------------------------------------------ liveness (1 and 2)


def test_defect1_missing_session_id_while_connected_is_not_a_new_session(elections: Elections) -> None:
    client = elections.client()
    election = elections.start(client=client)
    eventually(lambda: leads_alone(elections, election), timeout=2)
    node = election.status.node

    # `connected` still says True, but the connection drops before client_id is
    # read; the same session is back at once (reconnect triggers a check).
    client.none_client_id_reads = 1
    client.reconnect()
    eventually(lambda: expect(client.none_client_id_reads == 0, "the check did not run"), timeout=2)
    time.sleep(0.2)

    eventually(lambda: leads_alone(elections, election), timeout=2)
    assert election.status.node == node


def test_defect2_lost_create_reply_with_a_lagging_server_leaves_no_orphan(elections: Elections) -> None:
    client = elections.client()
    client.lose_create_replies = 1
    client.lagging_creates = True  # the retry's listing goes to a server that has not applied the create
    election = elections.start(client=client)
    eventually(lambda: leads_alone(elections, election), timeout=3)


def test_defect2_lost_create_reply_retried_under_a_new_session_leaves_no_orphan(elections: Elections) -> None:
    client = elections.client()
    client.lose_create_replies = 1
    expired: list[bool] = []

    def expire_before_first_create(op: str, path: str) -> None:
        if op == "create" and not expired:
            expired.append(True)
            client.expire()  # the create then commits under the new session; its reply is lost

    client.hook = expire_before_first_create
    election = elections.start(client=client)
    eventually(lambda: leads_alone(elections, election), timeout=3)
    assert expired


def host_settings(state_dir: Path) -> Settings:
    """One container's settings (api1) for an ElectionHost on the fake client."""
    return Settings(
        zk_hosts="127.0.0.1:2181",
        election_path=PATH,
        instance_id="api1",
        advertised_address="http://api1:8000",
        session_timeout=4.0,
        credentials=None,
        admin_token=None,
        log_level="INFO",
        state_dir=str(state_dir),
    )


class Blocker:
    """A hook that blocks the worker inside a ZooKeeper call until released."""

    def __init__(self, op: str = "sync") -> None:
        self.op = op
        self.entered = threading.Event()
        self.release = threading.Event()
        self.armed = True

    def __call__(self, op: str, path: str) -> None:
        if self.armed and op == self.op and threading.current_thread().name == "election-worker":
            self.entered.set()
            self.release.wait(10)

    def block(self, client: FakeKazooClient) -> None:
        client.hook = self
        assert self.entered.wait(5), "the worker never made the call to block in"

    def unblock(self) -> None:
        self.armed = False
        self.release.set()


# ------------------------------------------------------------------ 5


def test_defect5_suspended_ends_is_leader_in_every_worker_while_the_election_worker_is_blocked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = FakeKazooClient(timeout=4.0)
    monkeypatch.setattr(host_module, "make_client", lambda settings: client)
    settings = host_settings(tmp_path)
    paths = RuntimePaths(str(tmp_path))
    participant = host_module.ElectionHost(settings, paths)
    # Two gunicorn workers: each reads the shared snapshot through its own app.
    workers = [create_app(SharedView(paths, "api1", 4.0), admin_token=None).test_client() for _ in range(2)]
    participant.start()
    try:
        eventually(lambda: expect(all(w.get("/leader").get_json()["isLeader"] for w in workers)), timeout=3)
        blocker = Blocker("sync")  # the next lease renewal hangs in the worker
        blocker.block(client)

        suspended_at = time.monotonic()
        client.suspend()  # kazoo's listener call
        answers = [w.get("/leader").get_json() for w in workers]
        elapsed = time.monotonic() - suspended_at
        blocker.unblock()
        assert not any(a["isLeader"] for a in answers), answers
        assert all(a["state"] == "suspended" for a in answers), answers
        assert elapsed < 0.05, f"took {elapsed * 1000:.1f} ms"
    finally:
        participant.close(timeout=2)


# ------------------------------------------------------------------ 6


def test_defect6_a_failed_status_publication_is_retried(elections: Elections) -> None:
    seen: list[Status] = []
    failures = {"left": 0}

    def observer(status: Status) -> None:
        if failures["left"] > 0:
            failures["left"] -= 1
            raise OSError("disk full")
        seen.append(status)

    client = elections.client()
    election = elections.start(client=client, on_status=observer)
    eventually(lambda: expect(bool(seen) and seen[-1].state is ElectionState.LEADER), timeout=2)
    failures["left"] = 3  # every publication of the revocation fails, for a while
    client.suspend()
    eventually(lambda: expect(seen[-1].state is not ElectionState.LEADER, f"last published: {seen[-1]}"), timeout=3)
    assert election.status.state is ElectionState.SUSPENDED


def test_defect6_a_takeover_that_fails_after_taking_the_lock_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[FakeHost] = []
    attempts = {"n": 0}

    class FakeHost:
        def __init__(self, settings: Settings, paths: RuntimePaths) -> None:
            attempts["n"] += 1
            if attempts["n"] == 1:
                raise ConnectionError("cannot reach the state directory")

        def start(self) -> None:
            started.append(self)

        def close(self, timeout: float = 5.0) -> None:
            pass

    monkeypatch.setattr(runtime_worker, "ElectionHost", FakeHost)
    monkeypatch.setattr(runtime_worker, "_exiting", False)
    monkeypatch.setattr(runtime_worker, "_host", None)
    settings = host_settings(tmp_path)
    other_worker = ParticipantLock(RuntimePaths(str(tmp_path)).lock)
    assert other_worker.try_acquire()
    runtime_worker.start(settings, worker_alive=lambda: True)  # stands by
    other_worker.release()  # the participant's worker dies: we take over, and the first try fails
    try:
        eventually(lambda: expect(len(started) == 1, f"{attempts['n']} attempts, no participant"), timeout=5)
    finally:
        runtime_worker.stop()


# ------------------------------------------------------------------ 7


def _record(elections: Elections) -> LeaderInfo | None:
    return leader_record_decode(elections.server.nodes[PATH].data)


def test_defect7_the_leader_record_is_retried_until_it_holds(elections: Elections) -> None:
    client = elections.client()
    failed = {"n": 0}

    def fail_record_writes(op: str, path: str) -> None:
        if op == "set" and path == PATH and failed["n"] < 6:
            failed["n"] += 1
            raise (ConnectionLoss if failed["n"] == 1 else BadVersionError)("injected")

    client.hook = fail_record_writes
    election = elections.start(client=client)
    eventually(lambda: leads_alone(elections, election), timeout=2)
    eventually(lambda: expect(_record(elections) is not None, f"no leader record after {failed['n']} failures"))
    record = _record(elections)
    assert record is not None and record.epoch == election.status.epoch and record.instance == "p1"


def test_defect7_a_raising_on_elected_callback_still_gets_the_record_written(elections: Elections) -> None:
    def on_elected(epoch: int, at: float) -> None:
        raise RuntimeError("user callback bug")

    election = elections.start(on_elected=on_elected)
    eventually(lambda: leads_alone(elections, election), timeout=2)
    eventually(lambda: expect(_record(elections) is not None, "no leader record"), timeout=2)


# ------------------------------------------------------------------ 8


def test_defect8_a_resign_that_timed_out_does_not_happen_later(elections: Elections) -> None:
    client = elections.client()
    election = elections.start(client=client)
    eventually(lambda: leads_alone(elections, election), timeout=2)
    node = election.status.node
    blocker = Blocker("sync")
    blocker.block(client)
    with pytest.raises(TimeoutError):
        election.resign(timeout=0.1)
    blocker.unblock()
    time.sleep(0.3)  # time enough for a queued resign to run
    eventually(lambda: leads_alone(elections, election), timeout=2)
    assert election.status.node == node, "the resign happened after it was reported as failed"


def test_defect8_a_resign_that_fails_after_the_delete_reports_the_handover(elections: Elections) -> None:
    client = elections.client()
    election = elections.start(client=client)
    eventually(lambda: leads_alone(elections, election), timeout=2)
    deleted: list[str] = []

    def fail_after_delete(op: str, path: str) -> None:
        if op == "delete":
            deleted.append(path)
        elif deleted and op == "sync" and len(deleted) < 3:
            deleted.append("failed")
            raise ConnectionLoss("injected")

    client.hook = fail_after_delete
    assert election.resign(timeout=2) is True
    assert deleted and deleted[0].startswith(PATH + "/member-")
    client.hook = None
    eventually(lambda: leads_alone(elections, election), timeout=3)


def test_defect8_close_with_a_blocked_worker_deletes_our_node_from_the_calling_thread(elections: Elections) -> None:
    client = elections.client()
    election = elections.start(client=client)
    eventually(lambda: leads_alone(elections, election), timeout=2)
    blocker = Blocker("sync")
    blocker.block(client)
    try:
        election.close(timeout=0.2)
        assert elections.members() == [], "our node outlived close()"
        assert not election.is_leader
        assert client.connected and not client.stopped, "the election closed the caller's client"
    finally:
        blocker.unblock()


def test_close_leaves_the_callers_client_connected_without_our_nodes_or_listeners(elections: Elections) -> None:
    client = elections.client()
    candidate = elections.start("p1", client=client)
    watcher = elections.start("o1", client=client, observer=True)  # one client, two elections
    eventually(lambda: leads_alone(elections, candidate), timeout=2)
    eventually(lambda: expect(watcher.status.leader is not None, "the observer sees no leader"), timeout=2)
    registration = f"{PATH}-observers/o1"
    assert registration in elections.server.nodes

    candidate.close(timeout=2)
    watcher.close(timeout=2)

    assert client.connected and not client.stopped, "the election closed the caller's client"
    assert elections.members() == [] and registration not in elections.server.nodes
    assert client._listeners == [], "an election's connection listener is still on the client"
    assert candidate.status.state is ElectionState.STOPPED and watcher.status.state is ElectionState.STOPPED


def test_an_election_waits_connecting_until_the_caller_starts_its_client(elections: Elections) -> None:
    client = elections.client()
    election = elections.make(client=client)
    election.start()
    time.sleep(0.2)
    assert election.status.state is ElectionState.CONNECTING and elections.members() == []
    assert not client.started, "the election started the caller's client"
    client.start()
    eventually(lambda: leads_alone(elections, election), timeout=2)


# ------------------------------------------------------------------ 9


def test_defect9_the_lease_clock_counts_system_suspend(elections: Elections, monkeypatch: pytest.MonkeyPatch) -> None:
    boottime = getattr(time, "CLOCK_BOOTTIME", None)
    if boottime is None:
        pytest.fail("CLOCK_BOOTTIME is Linux-only; this test runs on Linux")
    client = elections.client()
    election = elections.start(client=client)
    eventually(lambda: leads_alone(elections, election), timeout=2)
    Blocker("sync").block(client)  # no renewal can hide the jump
    real = time.clock_gettime

    def suspended_for_an_hour(clock: int) -> float:
        return real(clock) + (3600.0 if clock == boottime else 0.0)

    # The machine slept an hour: CLOCK_BOOTTIME moved on, CLOCK_MONOTONIC did not.
    monkeypatch.setattr(time, "clock_gettime", suspended_for_an_hour)
    assert not election.is_leader
    monkeypatch.undo()
    assert isinstance(client.hook, Blocker)
    client.hook.unblock()


# ------------------------------------------------------------------ 10


def test_defect10_liveness_fails_while_the_worker_is_stuck(elections: Elections) -> None:
    client = elections.client(timeout=0.5)
    election = elections.start(client=client)
    eventually(lambda: leads_alone(elections, election), timeout=2)
    assert election.liveness().alive
    blocker = Blocker("sync")
    blocker.block(client)
    try:
        eventually(lambda: expect(not election.liveness().alive, "still alive"), timeout=3)
    finally:
        blocker.unblock()
    eventually(lambda: expect(election.liveness().alive, "did not recover"), timeout=3)


# ------------------------------------------------------- the state machine


def test_expiry_re_enrols_with_a_new_node_and_a_higher_epoch(elections: Elections) -> None:
    client = elections.client()
    revoked: list[str] = []
    election = elections.start(client=client, on_revoked=lambda reason, at: revoked.append(reason))
    eventually(lambda: leads_alone(elections, election), timeout=2)
    node, epoch = election.status.node, election.status.epoch
    assert epoch is not None
    client.expire()
    eventually(lambda: leads_alone(elections, election), timeout=2)
    later = election.status.epoch
    assert election.status.node != node and later is not None and later > epoch
    assert revoked and revoked[0] in ("connection suspended", "session expired")


def test_a_graceful_close_hands_over_to_the_next_member(elections: Elections) -> None:
    first = elections.start("p1")
    eventually(lambda: leads_alone(elections, first), timeout=2)
    second = elections.start("p2")
    eventually(lambda: expect(second.status.state is ElectionState.FOLLOWER), timeout=2)
    eventually(lambda: expect(second.status.leader is not None and second.status.leader.instance == "p1"), timeout=2)
    first.close(timeout=2)
    eventually(lambda: leads_alone(elections, second), timeout=2)
    assert first.status.state is ElectionState.STOPPED
    fence = second.fence()
    assert fence is not None and fence.member_path == f"{PATH}/{second.status.node}"
    assert first.fence() is None


class _PromotingClient(FakeKazooClient):
    """Runs ``on_state_read`` (once) when a caller thread reads ``state``: a
    caller preempted at that point while the worker changes the grant."""

    def __init__(self, server: FakeZooKeeper) -> None:
        self.on_state_read: Callable[[], None] | None = None
        super().__init__(server)

    @property
    def state(self) -> KazooState:
        hook, self.on_state_read = self.on_state_read, None
        if hook is not None and threading.current_thread().name != "election-worker":
            hook()
        return self._state

    @state.setter
    def state(self, value: KazooState) -> None:
        self._state = value


def test_a_fence_pairs_the_node_with_the_epoch_of_its_own_grant(elections: Elections) -> None:
    first = elections.start("p1")
    eventually(lambda: leads_alone(elections, first), timeout=2)
    client = _PromotingClient(elections.server)
    second = elections.start("p2", client=client)
    eventually(lambda: expect(second.status.epoch == first.status.epoch, f"p2 sees {second.status}"), timeout=2)

    def leader_leaves_and_we_lead() -> None:
        first.close(timeout=2)
        eventually(lambda: expect(second.status.state is ElectionState.LEADER), timeout=2)

    client.on_state_read = leader_leaves_and_we_lead
    fences = [second.fence(), second.fence()]  # the first call is preempted; the second one leads
    for fence in fences:
        if fence is not None:
            node = elections.server.nodes[fence.member_path]
            assert fence.epoch == node.czxid, f"{fence} carries another grant's epoch (own grant {node.czxid})"
    assert fences[1] is not None


def test_a_grant_still_queued_when_the_leader_closes_is_in_the_term_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = FakeKazooClient(timeout=4.0)
    monkeypatch.setattr(host_module, "make_client", lambda settings: client)

    def slow_term_log(op: str, path: str) -> None:
        if op == "multi" and threading.current_thread().name == "term-log-writer":
            time.sleep(0.3)  # a slow ensemble: the grant is still on its way at close

    client.hook = slow_term_log
    participant = host_module.ElectionHost(host_settings(tmp_path), RuntimePaths(str(tmp_path)))
    participant.start()
    try:
        eventually(lambda: expect(participant.election.is_leader), timeout=3)
        epoch = participant.election.status.epoch
    finally:
        participant.close(timeout=2)
    terms = term_log_path(PATH)
    entries = [decode_term(n.data) for p, n in client.server.nodes.items() if p.startswith(terms + "/")]
    assert [(t.epoch, t.reason) for t in entries if t is not None] == [(epoch, "closed")], entries


def test_a_participant_whose_start_failed_on_a_full_disk_runs_once_there_is_room(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(host_module, "make_client", lambda settings: FakeKazooClient(timeout=4.0))
    monkeypatch.setattr(runtime_worker, "_exiting", False)
    monkeypatch.setattr(runtime_worker, "_host", None)
    monkeypatch.setattr(runtime_worker, "_RETRY_FIRST", 0.05)
    real_write = host_module.snapshot.write
    full = {"writes_left_to_fail": 1}

    def write(path: str, state: Any) -> None:
        if full["writes_left_to_fail"] > 0:
            full["writes_left_to_fail"] -= 1
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(path, state)

    # The first start's first snapshot write fails before its control server runs.
    monkeypatch.setattr(host_module.snapshot, "write", write)
    # On a thread: a start that hangs must fail this test, not hang it.
    starter = threading.Thread(
        target=runtime_worker.start, args=(host_settings(tmp_path),), kwargs={"worker_alive": lambda: True}, daemon=True
    )
    starter.start()
    stopper = threading.Thread(target=runtime_worker.stop, kwargs={"timeout": 2}, daemon=True)
    try:
        eventually(
            lambda: expect(runtime_worker._host is not None, "no participant after the disk had room"), timeout=5
        )
        host = runtime_worker._host
        assert host is not None
        eventually(lambda: expect(host.election.is_leader), timeout=3)
    finally:
        stopper.start()
        stopper.join(10)
    assert not stopper.is_alive(), "stop() still blocked"
