"""Invariants checked from the instances' own records (``GET /leader/history``).

Every instance keeps its terms with wall-clock times; all containers share the
host's clock, so the terms of different instances can be compared directly.
The records survive a SIGKILL (they live in the container's state directory),
so the checks cover every term since the stack started, not one snapshot.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tests.support.compose import REPO_ROOT
from tests.support.stack import INSTANCES, StackClient, TermRecord

RESULTS = REPO_ROOT / "results" / "faults"


def assert_invariants(stack: StackClient, live: list[str] | None = None) -> list[TermRecord]:
    """At most one leader at any instant; epochs rise from term to term; one
    member node per live instance. Returns the terms for timing records."""
    terms = stack.terms()
    assert terms, "no leadership terms recorded at all"
    for before, after in itertools.pairwise(terms):
        assert before.ended_at is not None, f"{before} still open while {after} began"
        assert before.ended_at <= after.elected_at, f"overlap: {before} and {after}"
        # A new grant has a higher epoch; the only repeat is the same instance
        # resuming the same grant (same node, same session) after a brief suspension.
        resumed = after.instance == before.instance and after.epoch == before.epoch
        assert after.epoch > before.epoch or resumed, f"epoch did not rise: {before} -> {after}"
    assert sum(1 for t in terms if t.ended_at is None) <= 1
    live = live or list(INSTANCES)
    members = stack.get(live[0], "/cluster", timeout=10).json()["participants"]
    assert sorted(m["instance"] for m in members) == sorted(live), f"members {members} for live {live}"
    return terms


def write_scenario(name: str, settings: dict[str, Any], trials: list[dict[str, Any]]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {
        "scenario": name,
        "recordedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "settings": settings,
        "trials": trials,
    }
    path.write_text(json.dumps(payload, indent=2, default=lambda o: asdict(o)) + "\n")
    print(f"\n[{name}] timings written to {path}")
    return path
