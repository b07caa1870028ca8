"""Switchover to a named candidate and observers, on the whole stack.

The switchover timings (at least ten, p50/p95) go to
``results/faults/switchover-timing.json``; docs/switchover.md quotes them.
"""

from __future__ import annotations

import itertools
import json
import statistics
import threading
import time
from typing import Any

import pytest
import requests

from tests.support.stack import TermRecord
from tests.support.waiting import eventually, expect

from .conftest import ADMIN_TOKEN, INSTANCES, SESSION_TIMEOUT, Stack, sole_leader
from .records import assert_invariants, write_scenario
from .test_cli import zkleader

pytestmark = pytest.mark.stack

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
TIMED_SWITCHOVERS = 12


def queue(stack: Stack) -> list[str]:
    """The election order (leader first), as the instances list it."""
    participants = stack.get(INSTANCES[0], "/cluster", timeout=10).json()["participants"]
    return [p["instance"] for p in participants]


def post_switchover(stack: Stack, via: str, candidate: Any, **kwargs: Any) -> requests.Response:
    headers = kwargs.pop("headers", AUTH)
    return requests.post(
        f"{stack.url(via)}/leader/switchover", json={"candidate": candidate}, headers=headers, timeout=60, **kwargs
    )


def full_queue(stack: Stack) -> list[str]:
    order = queue(stack)
    expect(sorted(order) == sorted(INSTANCES), f"queue {order}")
    sole_leader(stack)
    return order


def assert_next_term_is(terms: list[TermRecord], old: str, old_epoch: int, candidate: str, epoch: int) -> None:
    """The old leader's term is followed directly by the candidate's: nobody else led between."""
    index = next(i for i, t in enumerate(terms) if t.instance == old and t.epoch == old_epoch)
    following = terms[index + 1]
    assert (following.instance, following.epoch) == (candidate, epoch), terms[index:]
    assert terms[index].ended_at is not None and terms[index].ended_at <= following.elected_at
    assert terms[index].reason == "switchover", terms[index]


def test_switchover_over_http_and_the_command_with_timings(stack: Stack) -> None:
    trials: list[dict[str, Any]] = []
    for round_ in range(TIMED_SWITCHOVERS):
        order = eventually(lambda: full_queue(stack), timeout=60)
        old, old_epoch = order[0], sole_leader(stack)[1]["epoch"]
        candidate = order[2] if round_ % 2 == 0 else order[1]  # 3rd and 2nd in the queue by turns
        via = order[1] if candidate == order[2] else order[2]  # neither the leader nor the candidate
        asked_at = time.time()
        if round_ == 1:
            done = zkleader(stack, "switchover", "--candidate", candidate, "--json", ZKLEADER_ADMIN_TOKEN=ADMIN_TOKEN)
            assert done.returncode == 0, done.stderr
            body = json.loads(done.stdout)
        else:
            response = post_switchover(stack, via, candidate)
            assert response.status_code == 202, response.text
            body = response.json()
        answered_at = time.time()
        assert body["leader"] == candidate and body["epoch"] > old_epoch
        assert body["previous"] == {"instance": old, "epoch": old_epoch, "state": "follower"}
        views = stack.views()
        assert views[candidate] and views[candidate]["isLeader"] and views[candidate]["epoch"] == body["epoch"]
        assert views[old] and views[old]["isLeader"] is False
        # When the candidate began to lead, as it recorded it itself.
        elected_at = next(t["electedAt"] for t in stack.history(candidate) if t["epoch"] == body["epoch"])
        trials.append(
            {
                "from": old,
                "to": candidate,
                "place": order.index(candidate) + 1,
                "via": "zkleader switchover" if round_ == 1 else via,
                "leadingAfterSeconds": round(elected_at - asked_at, 3),
                "answeredAfterSeconds": round(answered_at - asked_at, 3),
                "serverSeconds": body["seconds"],
            }
        )
    terms = assert_invariants(stack)
    for first, second in itertools.pairwise(trials):
        assert second["from"] == first["to"]
    _check_each_handover(terms, trials)
    leading = sorted(t["leadingAfterSeconds"] for t in trials)
    answered = sorted(t["answeredAfterSeconds"] for t in trials)
    summary = {
        "count": len(trials),
        "leadingP50": round(statistics.median(leading), 3),
        "leadingP95": round(_p95(leading), 3),
        "answeredP50": round(statistics.median(answered), 3),
        "answeredP95": round(_p95(answered), 3),
    }
    write_scenario("switchover-timing", {"sessionTimeout": SESSION_TIMEOUT, "summary": summary}, trials)
    print(f"\n[switchover] {summary}")


def _check_each_handover(terms: list[TermRecord], trials: list[dict[str, Any]]) -> None:
    """Every switchover term of the old leader is followed by the candidate's term."""
    switched = [t for t in terms if t.reason == "switchover"]
    assert len(switched) >= len(trials), switched
    for trial, ended in zip(trials, switched[-len(trials) :], strict=True):
        index = terms.index(ended)
        assert ended.instance == trial["from"], (trial, ended)
        assert_next_term_is(terms, ended.instance, ended.epoch, trial["to"], terms[index + 1].epoch)


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def test_switchover_refusals(stack: Stack) -> None:
    order = eventually(lambda: full_queue(stack), timeout=60)
    leader, follower = order[0], order[1]
    unknown = post_switchover(stack, follower, "api9")
    assert unknown.status_code == 412 and "api9 is unknown" in unknown.json()["error"], unknown.text
    already = post_switchover(stack, follower, leader)
    assert already.status_code == 412 and "already the leader" in already.json()["error"], already.text
    bad = post_switchover(stack, follower, 3)
    assert bad.status_code == 400 and bad.json()["status"] == 400
    missing = post_switchover(stack, follower, "api3", headers={})
    assert missing.status_code == 401
    wrong = post_switchover(stack, follower, "api3", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    refused = zkleader(stack, "switchover", "--candidate", leader, ZKLEADER_ADMIN_TOKEN=ADMIN_TOKEN)
    assert refused.returncode == 1 and "already the leader (HTTP 412)" in refused.stderr
    assert sole_leader(stack)[0] == leader  # nothing changed


def test_a_second_switchover_while_one_runs_is_409(stack: Stack) -> None:
    """The first is held back deterministically: its candidate is frozen
    (shorter than a session timeout, so it keeps its place) until the second
    has been refused."""
    order = eventually(lambda: full_queue(stack), timeout=60)
    leader, candidate, other = order
    first: dict[str, requests.Response] = {}
    stack.pause(candidate)
    try:
        thread = threading.Thread(target=lambda: first.setdefault("r", post_switchover(stack, other, candidate)))
        thread.start()
        # The leader steps aside as soon as the request stands: then it is running.
        eventually(lambda: expect(not (stack.leader_view(leader) or {}).get("isLeader", True)), timeout=5)
        second = post_switchover(stack, other, leader)
        assert second.status_code == 409, second.text
        assert second.json() == {"status": 409, "error": "a switchover is already running"}
    finally:
        stack.compose("unpause", candidate)
    thread.join(60)
    assert first["r"].status_code == 202, first["r"].text
    assert first["r"].json()["leader"] == candidate
    assert_invariants(stack)


@pytest.fixture
def observers(stack: Stack) -> Any:
    """api2 and api3 recreated as observers; candidates again afterwards."""
    as_observers = {"API2_ELECTION_ROLE": "observer", "API3_ELECTION_ROLE": "observer"}
    stack.compose("up", "-d", "--no-deps", "--force-recreate", "--wait", "api2", "api3", env=as_observers)
    try:
        yield ["api2", "api3"]
    finally:
        stack.compose("up", "-d", "--no-deps", "--force-recreate", "--wait", "api2", "api3")
        eventually(lambda: full_queue(stack), timeout=60)


def test_observers_never_lead_and_a_lost_candidate_leaves_no_leader(stack: Stack, observers: list[str]) -> None:
    eventually(lambda: sole_leader(stack), timeout=60)
    assert sole_leader(stack)[0] == "api1"

    def observers_see(leader: str | None) -> None:
        for name in observers:
            view = stack.leader_view(name)
            expect(view is not None, f"{name} does not answer")
            assert view is not None
            expect(view["state"] == "observer" and view["role"] == "observer", f"{name}: {view}")
            expect((view["leader"] or {}).get("instance") == leader, f"{name} sees {view['leader']}")

    eventually(lambda: observers_see("api1"), timeout=30)
    for name in observers:
        assert stack.get(name, "/primary").status_code == 503
        assert stack.get(name, "/replica").status_code == 503
        assert stack.get(name, "/health/ready").status_code == 200
        journal = requests.post(f"{stack.url(name)}/journal", json={"message": "from an observer"}, timeout=5)
        assert journal.status_code == 503, journal.text
    cluster = stack.get("api2", "/cluster", timeout=10).json()
    assert [p["instance"] for p in cluster["participants"]] == ["api1"]
    assert sorted(o["instance"] for o in cluster["observers"]) == observers
    listed = zkleader(stack, "list", "--json")
    roles = {m["instance"]: m["role"] for m in json.loads(listed.stdout)}
    assert roles == {"api1": "leader", "api2": "observer", "api3": "observer"}, listed.stdout
    refused = post_switchover(stack, "api2", "api3")
    assert refused.status_code == 412 and "observer" in refused.json()["error"], refused.text

    stack.compose("kill", "api1")  # SIGKILL: its session expires on the server
    eventually(lambda: observers_see(None), timeout=SESSION_TIMEOUT * 4)
    for name in observers:
        assert stack.get(name, "/primary").status_code == 503
        assert (stack.leader_view(name) or {}).get("isLeader") is False

    stack.compose("start", "api1")
    eventually(lambda: expect(sole_leader(stack)[0] == "api1"), timeout=60)
    eventually(lambda: observers_see("api1"), timeout=30)
