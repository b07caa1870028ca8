"""The ``zkleader`` command and scripts/failover.sh against the whole stack.

Every subcommand runs as an operator would run it: ``python -m zkleader`` from
this checkout on the host (the console script's module), ``zkleader`` inside a
container through ``docker compose exec``, and the failover.sh wrapper.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

from tests.support.compose import REPO_ROOT
from tests.support.waiting import eventually

from .conftest import ADMIN_TOKEN, INSTANCES, PROJECT, Stack, sole_leader
from .records import assert_invariants

pytestmark = pytest.mark.stack


def zkleader(stack: Stack, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    urls = ",".join(f"http://127.0.0.1:{stack.ports[name]}" for name in INSTANCES)
    environment = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT / "services" / "api"),
        "ZKLEADER_URLS": urls,
        "ZKLEADER_ADMIN_TOKEN": "",
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-m", "zkleader", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def failover_sh(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(REPO_ROOT / "scripts" / "failover.sh"), "-p", PROJECT, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def test_list_shows_the_leader_and_its_followers(stack: Stack) -> None:
    leader, view = eventually(lambda: sole_leader(stack), timeout=60)
    done = zkleader(stack, "list", "--json")
    assert done.returncode == 0, done.stderr
    members = {m["instance"]: m for m in json.loads(done.stdout)}
    assert sorted(members) == sorted(INSTANCES)
    assert members[leader]["role"] == "leader" and members[leader]["epoch"] == view["epoch"]
    assert 0 < members[leader]["leaseRemaining"] <= 4.0 * 1.5  # at most the lease granted
    assert all(m["role"] == "replica" and m["leader"] == leader for n, m in members.items() if n != leader)
    # The election order: the leader holds the lowest sequence number.
    assert members[leader]["sequence"] == min(m["sequence"] for m in members.values())

    table = zkleader(stack, "list")
    assert table.returncode == 0 and all(name in table.stdout for name in INSTANCES), table.stdout


def test_list_inside_a_container(stack: Stack) -> None:
    leader, _ = eventually(lambda: sole_leader(stack), timeout=60)
    members = json.loads(stack.compose("exec", "-T", "api1", "zkleader", "list", "--json"))
    assert {m["instance"]: m["role"] for m in members}[leader] == "leader"
    assert [m["url"] for m in members] == [f"http://{name}:8000" for name in INSTANCES]
    table = stack.compose("exec", "-T", "api1", "zkleader", "list")
    assert all(f"http://{name}:8000" in table for name in INSTANCES), table


def test_an_unreachable_instance_is_one_line(stack: Stack) -> None:
    eventually(lambda: sole_leader(stack), timeout=60)
    nobody = "http://127.0.0.1:9"  # discard port: nothing listens
    urls = f"http://127.0.0.1:{stack.ports['api1']},{nobody}"
    done = zkleader(stack, "list", ZKLEADER_URLS=urls)
    assert done.returncode == 3
    assert done.stderr.splitlines() == [f"zkleader: {nobody} does not answer: connection refused"]


def test_history_merges_every_instance_by_time(stack: Stack) -> None:
    eventually(lambda: sole_leader(stack), timeout=60)
    done = zkleader(stack, "history", "--json")
    assert done.returncode == 0, done.stderr
    terms = json.loads(done.stdout)
    recorded = sorted((t.instance, t.epoch) for t in stack.terms())
    assert sorted((t["instance"], t["epoch"]) for t in terms) == recorded
    assert [t["electedAt"] for t in terms] == sorted(t["electedAt"] for t in terms)


def test_journal_tail_or_one_line_when_there_is_none(stack: Stack) -> None:
    eventually(lambda: sole_leader(stack), timeout=60)
    done = zkleader(stack, "journal", "--json", "--limit", "5")
    if stack.get("api1", "/journal?limit=1").status_code == 404:
        assert done.returncode == 4 and done.stdout == ""
        assert len(done.stderr.splitlines()) == 1 and "404" in done.stderr
    else:
        assert done.returncode == 0, done.stderr
        entries = json.loads(done.stdout)
        assert len(entries) <= 5 and all({"seq", "epoch", "instance", "message", "at"} <= set(e) for e in entries)


def test_resign_hands_over_while_watch_shows_it(stack: Stack) -> None:
    leader, view = eventually(lambda: sole_leader(stack), timeout=60)
    frames: list[dict[str, Any]] = []

    def watch() -> None:
        out = zkleader(stack, "watch", "--json", "--duration", "8").stdout
        frames.extend(json.loads(line) for line in out.splitlines())

    watcher = threading.Thread(target=watch)
    watcher.start()
    time.sleep(2.0)  # watch has drawn the first frame (it polls every 0.2 s)
    refused = zkleader(stack, "resign", "--token", "wrong")
    assert refused.returncode == 1 and "HTTP 403" in refused.stderr
    done = zkleader(stack, "resign", "--json", ZKLEADER_ADMIN_TOKEN=ADMIN_TOKEN)
    watcher.join()
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["resigned"] == leader and outcome["epoch"] == view["epoch"]
    assert outcome["newLeader"] != leader and outcome["newEpoch"] > view["epoch"]
    new_leader, _ = eventually(lambda: sole_leader(stack), timeout=30)
    assert new_leader == outcome["newLeader"]

    leaders = [[m["instance"] for m in f["members"] if m["role"] == "leader"] for f in frames]
    assert leaders[0] == [leader], leaders
    assert [new_leader] in leaders, leaders
    assert_invariants(stack)


def test_failover_sh_kill_and_graceful(stack: Stack) -> None:
    for mode in ([], ["--graceful"]):
        old, _ = eventually(lambda: sole_leader(stack), timeout=60)
        done = failover_sh(*mode)
        assert done.returncode == 0, done.stdout + done.stderr
        new, view = sole_leader(stack)
        assert new != old
        assert f"new leader: {new}, epoch {view['epoch']} (was {old}" in done.stdout, done.stdout
        assert "failover time:" in done.stdout and "seen by polling:" in done.stdout
        assert f"ok: {new} leads with epoch {view['epoch']}, {old} is back as a follower" in done.stdout
        assert_invariants(stack)


def test_failover_json_and_its_exit_codes(stack: Stack) -> None:
    old, _ = eventually(lambda: sole_leader(stack), timeout=60)
    done = zkleader(stack, "failover", "-p", PROJECT, "--graceful", "--json", "--project-directory", str(REPO_ROOT))
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["ok"] is True and summary["oldLeader"] == old and summary["newEpoch"] > summary["oldEpoch"]
    assert 0 <= summary["failoverSeconds"] < summary["timeout"]

    usage = failover_sh("--interval", "soon")
    assert usage.returncode == 2
    not_ready = subprocess.run(
        [str(REPO_ROOT / "scripts" / "failover.sh"), "-p", f"{PROJECT}-absent"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert not_ready.returncode == 2 and "needs at least two running API instances" in not_ready.stderr

    # No successor can be seen within 0 s: exit 1, and the stopped leader is named.
    leader, _ = eventually(lambda: sole_leader(stack), timeout=60)
    try:
        failed = failover_sh("--timeout", "0")
        assert failed.returncode == 1, failed.stdout + failed.stderr
        assert "FAILED: no single leader among" in failed.stderr
        assert f"{leader} is left stopped; start it again with" in failed.stderr
    finally:
        stack.compose("start", leader)
    eventually(lambda: sole_leader(stack), timeout=60)
