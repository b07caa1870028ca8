"""Failover, cold start and idle soak, measured on the compose stack.

Every time comes from the instances' own records (``GET /leader/history``,
wall-clock on the shared host clock), not from when polling noticed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.support.journal_writers import Write, Writer, check_journal, failures, unavailability
from tests.support.stack import INSTANCES, StackClient, sole_leader, transition_after
from tests.support.waiting import eventually
from zkleader.cli.ops.trial import failover_trial

Log = Callable[[str], None]


def negotiated_session_timeout(stack: StackClient) -> float:
    """The session timeout the servers granted, as the instances report it."""
    text = stack.get("api1", "/metrics", timeout=5).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "zkleader_session_timeout_seconds":
                return float(sample.value)
    raise RuntimeError("zkleader_session_timeout_seconds not exported")


def failover_trials(
    stack: StackClient, kind: str, count: int, session_timeout: float, log: Log, writer: Writer | None = None
) -> list[dict[str, Any]]:
    """``kind``: ``kill`` (SIGKILL), ``stop`` (SIGTERM) or ``partition`` (network
    disconnect for longer than the session timeout). Each is one
    :func:`zkleader.cli.ops.trial.failover_trial`, as ``zkleader failover`` runs it.
    With a ``writer`` (through the gateway), each trial also records the
    client-visible write unavailability and the writes that failed during it."""
    trials = []
    for i in range(count):
        fault, restore = _fault(stack, kind, session_timeout)
        trial = failover_trial(
            list(INSTANCES),
            stack.views,
            fault,
            restore,
            timeout=4 * session_timeout,
            rejoin_timeout=6 * session_timeout,
            interval=0.02,
            settle_timeout=60,
        )
        record = transition_after(stack.terms(), trial.fault_at)
        if record.get("newLeader") != trial.new_leader or "newLeaderSeconds" not in record:
            raise RuntimeError(f"{kind} trial {i}: records disagree with what was observed: {record}")
        record["pollSawSeconds"] = round(trial.poll_saw_seconds, 3)
        fault_at = trial.fault_at
        if writer is not None:
            time.sleep(0.5)  # a few writes after the recovery close the window
            trial_end = time.time()
            writes = [w for w in writer.results() if fault_at - 1.0 <= w.sent_at <= trial_end]
            record["writeUnavailableSeconds"] = unavailability(writes, fault_at, trial_end)
            record["writes"] = len(writes)
            record["failedWrites"] = [
                {"sentAfter": round(w.sent_at - fault_at, 3), "status": w.status, "error": (w.error or "")[:80]}
                for w in failures(writes)
            ]
        if kind == "kill":
            record["ratioToSessionTimeout"] = round(record["newLeaderSeconds"] / session_timeout, 3)
        trials.append(record)
        extra = ""
        if writer is not None:
            extra = f"; writes unavailable {record['writeUnavailableSeconds']}s, {len(record['failedWrites'])} failed"
        log(
            f"{kind} {i + 1}/{count}: {trial.old_leader} -> {trial.new_leader}"
            f" in {record['newLeaderSeconds']:.3f}s{extra}"
        )
    return trials


def _fault(
    stack: StackClient, kind: str, session_timeout: float
) -> tuple[Callable[[str], object], Callable[[str], object]]:
    """The fault and its undoing for one trial of ``kind``."""
    if kind in ("kill", "stop"):
        return (lambda name: stack.compose(kind, name)), (lambda name: stack.compose("start", name))
    cut_at: list[float] = []

    def cut(name: str) -> None:
        cut_at.append(time.time())
        stack.partition(name)

    def heal(name: str) -> None:
        # Keep it cut off for longer than its session, so that the session expires.
        time.sleep(max(0.0, cut_at[-1] + session_timeout + 1.0 - time.time()))
        stack.heal(name)

    return cut, heal


def exactly_once(stack: StackClient, writes: list[Write]) -> dict[str, Any]:
    """The journal invariants over one fault kind's writes (every acknowledged
    write in the journal as answered, none twice): the counts, or the failure."""
    try:
        return {"ok": True, **check_journal(stack, writes)}
    except AssertionError as exc:
        return {"ok": False, "error": str(exc)[:500], "writes": len(writes)}


def cold_start(stack: StackClient, count: int, log: Log) -> list[float]:
    """From ``docker compose up`` (images built, volumes fresh) to the first election."""
    results = []
    for i in range(count):
        stack.compose("down", "-v", "--remove-orphans")
        started = time.time()
        stack.compose("up", "-d")
        leader, _ = eventually(lambda: sole_leader(stack), timeout=120, interval=0.05)
        first = min(t.elected_at for t in stack.terms())
        results.append(round(first - started, 3))
        log(f"cold start {i + 1}/{count}: {leader} elected {results[-1]:.2f}s after `up`")
    return results


def soak(stack: StackClient, seconds: float, log: Log) -> dict[str, Any]:
    """Leave the stack idle and count leadership changes (there should be none)."""
    eventually(lambda: sole_leader(stack), timeout=60)
    before = stack.terms()
    started = time.time()
    leaders_seen = set()
    polls = 0
    while time.time() - started < seconds:
        views = stack.views()
        leaders_seen |= {name for name, v in views.items() if v and v["isLeader"]}
        polls += 1
        time.sleep(1.0)
    after = stack.terms()
    changes = [t for t in after if t not in before]
    log(f"soak {seconds:.0f}s: {len(changes)} leadership changes, leaders seen {sorted(leaders_seen)}")
    return {
        "seconds": seconds,
        "polls": polls,
        "leadershipChanges": len(changes),
        "leadersSeen": sorted(leaders_seen),
        "changedTerms": [vars(t) for t in changes],
    }
