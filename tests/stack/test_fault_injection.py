"""Faults beyond a clean kill, on the running stack: no split brain, no stuck election.

Every scenario repeats its fault (the count is in the test), checks the
invariants from the instances' own records after each trial
(:func:`records.assert_invariants`), and writes its timings to
``results/faults/<scenario>.json``.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.support.compose import run
from tests.support.journal_writers import Writer, failures
from tests.support.stack import ZK_SERVERS, transition_after
from tests.support.waiting import eventually, expect

from .conftest import INSTANCES, SESSION_TIMEOUT, Stack, sole_leader
from .records import assert_invariants, write_scenario

# Two journal writers run through every scenario; the journal invariants are checked after it.
pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("journal_writers")]

TICK = 0.5  # ZooKeeper tickTime in compose.yaml
# After a fault that ends a session (kill, partition, freeze), a successor is
# elected once the server expires the session: T, rounded up to the next tick,
# plus a notification and a check. Bound: 1.5 T + 1 s.
SUCCESSOR_BOUND = 1.5 * SESSION_TIMEOUT + 1.0
# After ZooKeeper itself recovers, clients reconnect (back-off up to 2 s), may
# find their sessions expired and re-enrol: bound 3 T.
RECOVERY_BOUND = 3 * SESSION_TIMEOUT


def ensemble_leader(stack: Stack) -> str:
    modes = {server: stack.zk_mode(server) for server in ZK_SERVERS}
    leaders = [s for s, mode in modes.items() if mode == "leader"]
    assert len(leaders) == 1, f"ensemble modes: {modes}"
    return leaders[0]


def others(leader: str) -> list[str]:
    return [name for name in INSTANCES if name != leader]


def test_network_partition_of_the_leader(stack: Stack) -> None:
    trials = []
    for _ in range(3):
        old, _ = eventually(lambda: sole_leader(stack), timeout=60)
        fault_at = time.time()
        stack.partition(old)
        try:
            new, _ = eventually(lambda old=old: sole_leader(stack, others(old)), timeout=SUCCESSOR_BOUND)
            # Stay cut off for longer than the session timeout: the old session is gone.
            time.sleep(max(0.0, fault_at + SESSION_TIMEOUT + 1.0 - time.time()))
        finally:
            stack.heal(old)
        eventually(lambda new=new: expect(sole_leader(stack)[0] == new), timeout=RECOVERY_BOUND)
        terms = assert_invariants(stack)
        record = transition_after(terms, fault_at)
        assert record["oldLeader"] == old and record["newLeader"] == new, record
        assert record["leaderlessSeconds"] >= 0, "the old leader stepped down after the successor began"
        trials.append(record)
    write_scenario("partition", {"sessionTimeout": SESSION_TIMEOUT, "boundSeconds": SUCCESSOR_BOUND}, trials)


def no_failed_write_through_the_gateway(writers: tuple[Writer, Writer]) -> None:
    """The gateway's client saw every write succeed (the fixture checks the
    journal afterwards: each acknowledged write there exactly once)."""
    writes = writers[0].results()
    failed = failures(writes)
    assert not failed, f"{len(failed)} of {len(writes)} writes through the gateway failed: {failed[:5]}"


def test_a_frozen_leader_never_claims_leadership_after_waking(
    stack: Stack, journal_writers: tuple[Writer, Writer]
) -> None:
    trials = []
    freeze = SESSION_TIMEOUT + 2.0
    for _ in range(3):
        old, _ = eventually(lambda: sole_leader(stack), timeout=60)
        fault_at = time.time()
        stack.pause(old)
        try:
            new, _ = eventually(lambda old=old: sole_leader(stack, others(old)), timeout=SUCCESSOR_BOUND)
            time.sleep(max(0.0, fault_at + freeze - time.time()))
        finally:
            stack.compose("unpause", old)
        # From the first answer after waking on, it never says it leads.
        claims = []
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            view = stack.leader_view(old)
            if view is not None:
                claims.append(view["isLeader"])
        assert claims and not any(claims), f"{old} claimed leadership after waking: {claims.count(True)} times"
        eventually(lambda new=new: expect(sole_leader(stack)[0] == new), timeout=RECOVERY_BOUND)
        terms = assert_invariants(stack)
        record = transition_after(terms, fault_at)
        assert record["oldLeader"] == old and record["newLeader"] == new, record
        trials.append({**record, "freezeSeconds": freeze, "answersAfterWaking": len(claims)})
    write_scenario("freeze", {"sessionTimeout": SESSION_TIMEOUT, "boundSeconds": SUCCESSOR_BOUND}, trials)
    no_failed_write_through_the_gateway(journal_writers)


def test_a_short_freeze_changes_nothing(stack: Stack) -> None:
    trials = []
    blip = SESSION_TIMEOUT / 4  # well under the lease (T/2) and kazoo's ping deadline (2/3 T)
    for _ in range(3):
        leader, view = eventually(lambda: sole_leader(stack), timeout=60)
        fault_at = time.time()
        stack.pause(leader)
        time.sleep(blip)
        stack.compose("unpause", leader)
        time.sleep(SESSION_TIMEOUT)
        assert sole_leader(stack) == (leader, view)
        changed = [t for t in stack.terms() if t.elected_at >= fault_at or (t.ended_at or 0) >= fault_at]
        assert not changed, f"a {blip}s freeze changed leadership: {changed}"
        assert_invariants(stack)
        trials.append({"faultAt": round(fault_at, 3), "blipSeconds": blip, "leader": leader, "changes": 0})
    write_scenario("blip", {"sessionTimeout": SESSION_TIMEOUT}, trials)


@pytest.mark.parametrize("target", ["ensemble-leader", "leaders-server"])
def test_losing_one_zookeeper_server_keeps_the_same_leader(
    stack: Stack, target: str, journal_writers: tuple[Writer, Writer]
) -> None:
    trials = []
    for _ in range(2):
        leader, view = eventually(lambda: sole_leader(stack), timeout=60)
        server = ensemble_leader(stack) if target == "ensemble-leader" else stack.connected_zk_server(leader)
        assert server is not None, f"cannot tell which server {leader} is connected to"
        fault_at = time.time()
        stack.compose("kill", server)
        try:
            time.sleep(SESSION_TIMEOUT)
            # The leader may pause while it reconnects, then resumes its own grant.
            same = (leader, view)
            eventually(lambda same=same: expect(sole_leader(stack) == same), timeout=RECOVERY_BOUND)
        finally:
            stack.compose("start", server)
            eventually(lambda server=server: expect(stack.zk_mode(server) is not None), timeout=60)
        terms = assert_invariants(stack)
        after = [t for t in terms if t.elected_at >= fault_at]
        assert all(t.instance == leader and t.epoch == view["epoch"] for t in after), after
        trials.append(
            {
                "faultAt": round(fault_at, 3),
                "server": server,
                "leader": leader,
                "resumedSeconds": round(after[0].elected_at - fault_at, 3) if after else 0.0,
            }
        )
    write_scenario(f"zk-server-loss-{target}", {"sessionTimeout": SESSION_TIMEOUT}, trials)
    no_failed_write_through_the_gateway(journal_writers)


def test_quorum_loss_stops_all_leadership_and_recovers_without_restarting_instances(stack: Stack) -> None:
    trials = []
    for _ in range(2):
        leader, _ = eventually(lambda: sole_leader(stack), timeout=60)
        lost = ZK_SERVERS[:2]
        fault_at = time.time()
        stack.compose("kill", *lost)
        try:
            eventually(lambda: expect(not any(v and v["isLeader"] for v in stack.views().values())), SESSION_TIMEOUT)
            no_leader_after = time.time() - fault_at
        finally:
            stack.compose("start", *lost)
        eventually(lambda: expect(all(stack.zk_mode(s) for s in ZK_SERVERS)), timeout=90)
        back_at = time.time()
        new, _ = eventually(lambda: sole_leader(stack), timeout=RECOVERY_BOUND)
        terms = assert_invariants(stack)
        trials.append(
            {
                "faultAt": round(fault_at, 3),
                "stoppedServers": lost,
                "oldLeader": leader,
                "newLeader": new,
                "noLeaderWithinSeconds": round(no_leader_after, 3),
                "ensembleBackSeconds": round(back_at - fault_at, 3),
                # Every term since the fault, in seconds after it: a leader may briefly
                # resume on the last server before that one notices it lost its quorum.
                "termsSinceFault": [
                    {
                        "instance": t.instance,
                        "epoch": t.epoch,
                        "electedAfter": round(t.elected_at - fault_at, 3),
                        "endedAfter": None if t.ended_at is None else round(t.ended_at - fault_at, 3),
                    }
                    for t in terms
                    if t.elected_at >= fault_at
                ],
            }
        )
    write_scenario("quorum-loss", {"sessionTimeout": SESSION_TIMEOUT, "boundSeconds": RECOVERY_BOUND}, trials)


def test_whole_ensemble_restart_elects_one_leader_without_restarting_instances(stack: Stack) -> None:
    trials = []
    for _ in range(2):
        eventually(lambda: sole_leader(stack), timeout=60)
        fault_at = time.time()
        stack.compose("restart", *ZK_SERVERS)
        eventually(lambda: expect(all(stack.zk_mode(s) for s in ZK_SERVERS)), timeout=90)
        back_at = time.time()
        leader, _ = eventually(lambda: sole_leader(stack), timeout=RECOVERY_BOUND)
        terms = assert_invariants(stack)
        regained = [t for t in terms if t.elected_at >= fault_at]
        trials.append(
            {
                "faultAt": round(fault_at, 3),
                "ensembleBackSeconds": round(back_at - fault_at, 3),
                "leader": leader,
                # None: the leader's session survived without even a suspension.
                "leaderAgainSeconds": round(regained[0].elected_at - fault_at, 3) if regained else None,
            }
        )
    write_scenario("ensemble-restart", {"sessionTimeout": SESSION_TIMEOUT}, trials)


STRANGER = """
import sys
from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError
path = sys.argv[1]
client = KazooClient(hosts="zk1:2181,zk2:2181,zk3:2181", timeout=4.0)
client.start(timeout=15)
children = client.get_children(path)
print("read", len(children))
results = []
for attempt, call in [
    ("delete", lambda: client.delete(path + "/" + children[0])),
    ("create", lambda: client.create(path + "/member-" + "0" * 32 + "-", b"x", ephemeral=True, sequence=True)),
    ("set", lambda: client.set(path, b"{}")),
]:
    try:
        call()
        results.append(attempt + " ALLOWED")
    except NoAuthError:
        results.append(attempt + " denied")
print(" ".join(results))
client.stop()
"""


def test_zookeeper_is_locked_down(stack: Stack) -> None:
    eventually(lambda: sole_leader(stack), timeout=60)
    # A client on the stack's network without the stack's credentials.
    out = stack.compose(
        "run", "--rm", "--no-deps", "-T", "--entrypoint", "python3", "api1", "-c", STRANGER, "/zkleader/election"
    )
    assert "read 3" in out, out
    assert "delete denied create denied set denied" in out, out
    assert_invariants(stack)
    # Four-letter words beyond the healthcheck's `srvr` are refused.
    for word in ("ruok", "stat", "mntr", "conf", "cons", "wchp", "dump", "envi"):
        reply = stack.compose(
            "exec", "-T", "zk1", "bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/2181; printf {word} >&3; cat <&3"
        )
        assert "is not executed because it is not in the whitelist" in reply, (word, reply)
    # Neither the client port nor the admin port is published, and no AdminServer runs.
    for server in ZK_SERVERS:
        info = json.loads(run(["docker", "inspect", stack.container(server)]))[0]
        published = {port: bound for port, bound in (info["NetworkSettings"]["Ports"] or {}).items() if bound}
        assert not published, f"{server} publishes {published}"
        admin = stack.compose(
            "exec",
            "-T",
            server,
            "bash",
            "-c",
            "(exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null && echo open || echo closed",
        )
        assert admin.strip() == "closed", f"{server} AdminServer answers on 8080"
