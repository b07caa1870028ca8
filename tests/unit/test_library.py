"""The public library API (``zkleader.LeaderElection``, ``zkleader.aio``) against the fake kazoo client.

Real worker threads, bounded waits, no Docker.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import zkleader
import zkleader.aio
from tests.support.waiting import eventually, expect
from zkleader import ElectionState, ElectionTimings, Fence, LeaderElection, Leadership, Status
from zkleader.testing import FakeKazooClient, FakeZooKeeper

PATH = "/app/leader"


class Made:
    def __init__(self) -> None:
        self.server = FakeZooKeeper()
        self.all: list[LeaderElection] = []

    def client(self, timeout: float = 4.0, start: bool = True) -> FakeKazooClient:
        client = FakeKazooClient(self.server, timeout=timeout)
        if start:
            client.start()
        return client

    def election(self, name: str, client: FakeKazooClient | None = None, **options: Any) -> LeaderElection:
        election = LeaderElection(client or self.client(), PATH, name, **options)  # type: ignore[arg-type]
        self.all.append(election)
        return election


@pytest.fixture
def made() -> Iterator[Made]:
    m = Made()
    yield m
    for election in m.all:
        election.close(timeout=2)


class Freeze:
    """Blocks the election worker inside its next lease renewal (a frozen leader)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, op: str, path: str) -> None:
        if op == "sync" and threading.current_thread().name == "election-worker" and not self.release.is_set():
            self.entered.set()
            self.release.wait(10)


# ------------------------------------------------------------ validation


def test_public_names_import_from_the_package() -> None:
    for name in zkleader.__all__:
        assert getattr(zkleader, name) is not None
    assert zkleader.LeaderElection.__module__ == "zkleader.api"  # the facade, not the core
    assert "ElectionCore" not in zkleader.__all__  # the core stays underneath
    assert {"LeaderElection", "Fence", "Status", "ElectionTimings", "SwitchoverResult"} <= set(zkleader.__all__)


@pytest.mark.parametrize(
    ("args", "options", "error", "words"),
    [
        ((PATH, ""), {}, ValueError, "identifier"),
        ((PATH, "   "), {}, ValueError, "identifier"),
        ((PATH, 7), {}, TypeError, "identifier"),
        (("app/leader", "p1"), {}, ValueError, "absolute znode path"),
        (("/app/leader/", "p1"), {}, ValueError, "absolute znode path"),
        (("/app//leader", "p1"), {}, ValueError, "absolute znode path"),
        (("/", "p1"), {}, ValueError, "absolute znode path"),
        (("/app/../x", "p1"), {}, ValueError, "'..'"),
        ((PATH, "p1"), {"timings": {"lease_fraction": 0.5}}, TypeError, "ElectionTimings"),
        ((PATH, "p1"), {"acl": "world:anyone"}, TypeError, "acl"),
        ((PATH, "p1"), {"address": 8000}, TypeError, "address"),
    ],
)
def test_bad_input_is_refused_once_with_a_clear_error(
    args: tuple[Any, ...], options: dict[str, Any], error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        LeaderElection(FakeKazooClient(), *args, **options)  # type: ignore[arg-type]


def test_a_client_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(TypeError, match="KazooClient"):
        LeaderElection("127.0.0.1:2181", PATH, "p1")  # type: ignore[arg-type]


def test_bad_timings_are_refused_by_election_timings_itself() -> None:
    with pytest.raises(ValueError, match="lease_fraction"):
        ElectionTimings(lease_fraction=1.5)


# ------------------------------------------------------- wait, leader, fence


def test_wait_leader_and_fence(made: Made) -> None:
    first = made.election("p1", address="http://p1")
    second = made.election("p2")
    assert first.fence() is None
    assert first.wait(0.05) is False  # not started: times out
    first.start()
    second.start()
    assert first.wait(5) is True
    assert first.is_leader and not second.is_leader
    assert first.leader == "p1"
    eventually(lambda: expect(second.leader == "p1"))
    fence = first.fence()
    assert isinstance(fence, Fence)
    assert fence.member_path.startswith(PATH + "/") and fence.member_path.endswith(first.status.node or "?")
    assert fence.epoch == first.status.epoch
    assert second.fence() is None
    assert second.wait(0.1) is False
    assert first.status.state is ElectionState.LEADER


def test_close_hands_over_and_leaves_the_callers_client_connected(made: Made) -> None:
    first = made.election("p1")
    second = made.election("p2")
    first.start()
    assert first.wait(5)
    second.start()
    first.close()
    assert second.wait(2)
    assert first.client.connected
    assert first.status.state is ElectionState.STOPPED
    assert first.wait(0.01) is False


def test_an_unstarted_client_is_started_by_its_owner_not_by_the_election(made: Made) -> None:
    client = made.client(start=False)
    election = made.election("p1", client)
    election.start()
    assert election.wait(0.3) is False
    assert not client.started, "the election must not start the caller's client"
    client.start()
    assert election.wait(5)


def test_context_manager_starts_and_closes(made: Made) -> None:
    client = made.client()
    with LeaderElection(client, PATH, "p1") as election:  # type: ignore[arg-type]
        assert election.wait(5)
    assert election.status.state is ElectionState.STOPPED
    assert client.connected
    assert made.server.children(PATH, synced=True) == []


def test_resign_hands_over(made: Made) -> None:
    first = made.election("p1")
    second = made.election("p2")
    first.start()
    assert first.wait(5)
    second.start()
    eventually(lambda: expect(len(first.participants()) == 2))
    assert first.resign(2) is True
    assert second.wait(2)
    assert first.resign(2) is False


# ------------------------------------------------------------ listeners


def test_listeners_are_guarded_fire_on_change_only_and_may_use_an_executor(made: Made) -> None:
    election = made.election("p1")
    seen: list[Status] = []
    threads: list[str] = []
    pooled: list[str] = []

    def broken(status: Status) -> None:
        raise RuntimeError("a broken listener")

    def recording(status: Status) -> None:
        seen.append(status)
        threads.append(threading.current_thread().name)

    election.add_listener(broken)
    election.add_listener(recording)
    with ThreadPoolExecutor(1, thread_name_prefix="pool") as pool:
        election.add_listener(lambda s: pooled.append(threading.current_thread().name), executor=pool)
        election.add_listener(broken, executor=pool)
        election.start()
        assert election.wait(5)
        eventually(lambda: expect(any(s.state is ElectionState.LEADER for s in seen)))
        eventually(lambda: expect(len(pooled) == len(seen)))
    assert all(name.startswith("pool") for name in pooled)
    assert "election-worker" in threads
    assert all(a != b for a, b in itertools.pairwise(seen)), "a listener fired without a change"
    election.remove_listener(recording)
    count = len(seen)
    election.close()
    assert len(seen) == count
    assert election.is_leader is False


def test_listener_runs_on_kazoos_thread_on_suspension(made: Made) -> None:
    client = made.client()
    election = made.election("p1", client)
    suspended = threading.Event()
    where: list[str] = []

    def listener(status: Status) -> None:
        if status.state is ElectionState.SUSPENDED:
            where.append(threading.current_thread().name)
            suspended.set()

    election.add_listener(listener)
    election.start()
    assert election.wait(5)
    client.suspend()  # the fake fires connection listeners on the calling thread, as kazoo on its event thread
    assert suspended.wait(2)
    assert where == [threading.current_thread().name]
    assert not election.is_leader


def test_a_raising_on_status_hook_is_offered_the_status_again(made: Made) -> None:
    calls: list[Status] = []

    def flaky(status: Status) -> None:
        calls.append(status)
        if len(calls) == 1:
            raise OSError("disk full")

    election = made.election("p1", on_status=flaky)
    election.start()
    assert election.wait(5)
    assert len(calls) >= 2


# ---------------------------------------------------------------- run()


def leader_job(result: dict[str, Any]) -> Any:
    def work(leadership: Leadership) -> str:
        result["fence"] = leadership.fence
        result["lost_in_time"] = leadership.lost.wait(5)
        result["lost_at"] = time.monotonic()
        return "done"

    return work


def run_in_thread(election: LeaderElection, work: Any) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def body() -> None:
        try:
            out["value"] = election.run(work)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            out["error"] = exc

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, out


def test_run_sets_lost_on_suspension_and_resigns_after_the_job(made: Made) -> None:
    client = made.client()
    election = made.election("p1", client)
    result: dict[str, Any] = {}
    thread, out = run_in_thread(election, leader_job(result))
    eventually(lambda: expect("fence" in result))
    assert result["fence"] == election.fence()
    client.suspend()
    thread.join(5)
    assert out == {"value": "done"}
    assert result["lost_in_time"] is True


def test_run_sets_lost_when_a_frozen_leaders_lease_runs_out(made: Made) -> None:
    client = made.client(timeout=1.0)  # lease 0.5 s, renewed every 0.125 s
    election = made.election("p1", client)
    result: dict[str, Any] = {}
    freeze = Freeze()
    thread, out = run_in_thread(election, leader_job(result))
    eventually(lambda: expect("fence" in result))
    client.hook = freeze
    assert freeze.entered.wait(2)
    frozen_at = time.monotonic()
    thread.join(5)
    assert result["lost_in_time"] is True
    assert result["lost_at"] - frozen_at < 0.9  # lease 0.5 s, well within T = 1 s
    assert election.status.state is ElectionState.LEADER, "no status was published: the timer saw it"
    freeze.release.set()
    assert out == {"value": "done"}


def test_run_sets_lost_on_session_loss(made: Made) -> None:
    client = made.client()
    election = made.election("p1", client)
    result: dict[str, Any] = {}
    thread, out = run_in_thread(election, leader_job(result))
    eventually(lambda: expect("fence" in result))
    client.expire()  # LOST, then a new session: any new grant is another fence
    thread.join(5)
    assert result["lost_in_time"] is True
    assert out == {"value": "done"}


def test_close_during_run_sets_lost_and_run_returns(made: Made) -> None:
    election = made.election("p1")
    result: dict[str, Any] = {}
    thread, out = run_in_thread(election, leader_job(result))
    eventually(lambda: expect("fence" in result))
    election.close()
    thread.join(5)
    assert result["lost_in_time"] is True
    assert out == {"value": "done"}
    assert election.client.connected


def test_after_handover_runs_on_close(made: Made) -> None:
    election = made.election("p1")
    election.start()
    assert election.wait(5)
    ran = threading.Event()
    election.close(after_handover=ran.set)
    assert ran.is_set()


def test_run_sets_lost_on_resign_by_someone_else(made: Made) -> None:
    election = made.election("p1")
    other = made.election("p2")
    election.start()
    assert election.wait(5)
    other.start()
    eventually(lambda: expect(len(election.participants()) == 2))
    result: dict[str, Any] = {}
    elected = threading.Event()

    def work(leadership: Leadership) -> None:
        elected.set()
        result["lost"] = leadership.lost.wait(5)

    thread, _out = run_in_thread(election, work)
    assert elected.wait(5)
    assert election.resign(2) is True
    thread.join(5)
    assert result["lost"] is True
    assert other.wait(2)


def test_run_resigns_and_reraises_when_the_job_raises(made: Made) -> None:
    election = made.election("p1")
    other = made.election("p2")
    election.start()
    assert election.wait(5)
    other.start()
    eventually(lambda: expect(len(election.participants()) == 2))

    def work(leadership: Leadership) -> None:
        raise KeyError("job failed")

    with pytest.raises(KeyError, match="job failed"):
        election.run(work)
    assert other.wait(2)
    assert not election.is_leader


def test_run_on_a_closed_election_raises(made: Made) -> None:
    election = made.election("p1")
    election.close()
    with pytest.raises(RuntimeError):
        election.run(lambda leadership: None)


# ---------------------------------------------------------------- switchover


def test_switchover_hands_leadership_to_the_candidate(made: Made) -> None:
    first = made.election("p1")
    second = made.election("p2")
    third = made.election("p3")
    first.start()
    assert first.wait(5)
    second.start()
    third.start()
    eventually(lambda: expect(len(first.participants()) == 3))
    result = first.switchover("p3", timeout=5)
    assert result.outcome == "done", result
    assert third.wait(2)
    refused = first.switchover("nobody")
    assert refused.outcome == "not-eligible"


def test_observers_are_listed(made: Made) -> None:
    leader = made.election("p1")
    watcher = made.election("w1", observer=True)
    leader.start()
    watcher.start()
    assert leader.wait(5)
    eventually(lambda: expect([o.instance for o in leader.observers()] == ["w1"]))
    eventually(lambda: expect(watcher.leader == "p1"))
    assert watcher.wait(0.1) is False


# ---------------------------------------------------------------- asyncio


def test_aio_wait_and_changes_end_on_close() -> None:
    server = FakeZooKeeper()
    client = FakeKazooClient(server)
    client.start()

    async def main() -> list[ElectionState]:
        states: list[ElectionState] = []
        async with zkleader.aio.LeaderElection(client, PATH, "p1") as election:  # type: ignore[arg-type]

            async def collect() -> None:
                async for status in election.changes():
                    states.append(status.state)

            collector = asyncio.create_task(collect())
            await asyncio.sleep(0)
            assert await election.wait(5)
            assert election.leader == "p1"
            assert election.fence() is not None
            assert [p.instance for p in await election.participants()] == ["p1"]
        await asyncio.wait_for(collector, 2)  # closing ended the iterator
        assert await election.wait(0.01) is False
        return states

    states = asyncio.run(main())
    assert states[-1] is ElectionState.STOPPED
    assert client.connected


def test_aio_wait_times_out_without_blocking_the_loop() -> None:
    server = FakeZooKeeper()
    holder = FakeKazooClient(server)
    holder.start()
    first = LeaderElection(holder, PATH, "p1")  # type: ignore[arg-type]
    first.start()
    assert first.wait(5)
    client = FakeKazooClient(server)
    client.start()

    async def main() -> tuple[bool, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        async with zkleader.aio.LeaderElection(client, PATH, "p2") as election:  # type: ignore[arg-type]
            led = await election.wait(0.3)
        task.cancel()
        return led, ticks

    try:
        led, ticks = asyncio.run(main())
    finally:
        first.close()
    assert led is False
    assert ticks > 10
