"""The gateway, the role endpoints and the journal on the running stack, and
zero failed writes through the gateway across graceful stops of the leader."""

from __future__ import annotations

import json
import time

import pytest
import requests

from tests.support.journal_writers import Writer, check_journal, failures, read_journal, unavailability
from tests.support.stack import ZK_SERVERS
from tests.support.waiting import eventually, expect

from .conftest import INSTANCES, SESSION_TIMEOUT, Stack, sole_leader
from .records import assert_invariants, write_scenario

pytestmark = pytest.mark.stack

GRACEFUL_STOPS = 3
KILLS = 2
WRITE_RATE = 20.0
# A client of the gateway with a timeout of T + 3 s, no retries and no key of its own.
CLIENT_TIMEOUT = SESSION_TIMEOUT + 3.0


def test_role_endpoints_and_the_gateway_follow_the_leader(stack: Stack) -> None:
    leader, view = eventually(lambda: sole_leader(stack), timeout=60)
    for name in INSTANCES:
        for method in ("GET", "HEAD", "OPTIONS"):
            primary = requests.request(method, f"{stack.url(name)}/primary", timeout=2)
            replica = requests.request(method, f"{stack.url(name)}/replica", timeout=2)
            assert primary.status_code == (200 if name == leader else 503), (name, method)
            assert replica.status_code == (503 if name == leader else 200), (name, method)
        assert requests.get(f"{stack.url(name)}/leader", timeout=2).status_code == 200
    through = eventually(lambda: _primary_through_gateway(stack), timeout=10)
    assert through["instance"] == leader and through["epoch"] == view["epoch"]


def _primary_through_gateway(stack: Stack) -> dict[str, object]:
    response = requests.get(f"{stack.gateway_url}/primary", timeout=2)
    expect(response.status_code == 200, f"gateway answered {response.status_code}")
    body: dict[str, object] = response.json()
    return body


def test_journal_through_the_gateway_and_on_every_instance(stack: Stack) -> None:
    leader, _ = eventually(lambda: sole_leader(stack), timeout=60)
    key = f"stack-{time.time_ns()}"
    first = requests.post(
        f"{stack.gateway_url}/journal", json={"message": key}, headers={"Idempotency-Key": key}, timeout=10
    )
    assert first.status_code == 201, first.text
    created = first.json()
    assert created["instance"] == leader
    again = requests.post(
        f"{stack.gateway_url}/journal", json={"message": key}, headers={"Idempotency-Key": key}, timeout=10
    )
    assert again.status_code == 201 and again.json() == created
    assert again.headers["Idempotent-Replayed"] == "true"
    for name in INSTANCES:
        page = requests.get(f"{stack.url(name)}/journal", params={"after": created["seq"] - 1, "limit": 1}, timeout=5)
        assert page.status_code == 200
        (entry,) = page.json()["entries"]
        assert entry["seq"] == created["seq"] and entry["message"] == key and entry["instance"] == leader
    follower = next(name for name in INSTANCES if name != leader)
    refused = requests.post(f"{stack.url(follower)}/journal", json={"message": "direct"}, timeout=10)
    assert refused.status_code == 503
    assert refused.json()["leader"]["instance"] == leader


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (json.dumps({"message": 1}).encode(), "application/json", 400),
        (json.dumps({"message": "x" * 1025}).encode(), "application/json", 400),
        (json.dumps({"message": "x" * 5000}).encode(), "application/json", 413),
        (json.dumps({"message": "x"}).encode(), "text/plain", 415),
    ],
)
def test_bad_writes_through_the_gateway_are_refused(stack: Stack, body: bytes, content_type: str, status: int) -> None:
    eventually(lambda: sole_leader(stack), timeout=60)
    response = requests.post(
        f"{stack.gateway_url}/journal", data=body, headers={"Content-Type": content_type}, timeout=10
    )
    assert response.status_code == status, response.text
    assert response.json()["status"] == status


def test_no_failed_write_through_the_gateway_across_graceful_stops(stack: Stack) -> None:
    """20 writes per second, no client retries, through the gateway; the
    leader is stopped gracefully (SIGTERM) several times."""
    trials = []
    with Writer(stack, ["gateway"], rate=WRITE_RATE, timeout=CLIENT_TIMEOUT, keyed=False) as writer:
        time.sleep(1.0)
        for _ in range(GRACEFUL_STOPS):
            old, _ = eventually(lambda: sole_leader(stack), timeout=60)
            stopped_at = time.time()
            stack.compose("stop", old)
            new, _ = eventually(lambda old=old: sole_leader(stack, [n for n in INSTANCES if n != old]), timeout=10)
            time.sleep(1.0)
            stack.compose("start", old)
            eventually(lambda: sole_leader(stack), timeout=60)
            time.sleep(1.0)
            trials.append(
                {
                    "faultAt": round(stopped_at, 3),
                    "oldLeader": old,
                    "newLeader": new,
                    "writeUnavailableSeconds": unavailability(writer.results(), stopped_at),
                }
            )
    writes = writer.results()
    failed = failures(writes)
    counts = check_journal(stack, writes)
    assert_invariants(stack)
    write_scenario(
        "graceful-stop-writes",
        {"writeRate": WRITE_RATE, "stops": GRACEFUL_STOPS, "journal": counts, "failed": [vars(w) for w in failed]},
        trials,
    )
    assert not failed, f"{len(failed)} of {len(writes)} writes failed: {failed[:5]}"
    assert counts["acknowledged"] == len(writes)


def test_no_failed_write_through_the_gateway_across_kills_of_the_leader(stack: Stack) -> None:
    """SIGKILL of the leader while a client without a key, retries or a long
    timeout writes through the gateway: the gateway holds and resends each
    write (under the key it adds) until the successor answers; each write is
    in the journal exactly once."""
    trials = []
    with Writer(stack, ["gateway"], rate=WRITE_RATE, timeout=CLIENT_TIMEOUT, keyed=False) as writer:
        time.sleep(1.0)
        for _ in range(KILLS):
            old, _ = eventually(lambda: sole_leader(stack), timeout=60)
            killed_at = time.time()
            stack.compose("kill", old)
            bound = 1.5 * SESSION_TIMEOUT + 1.0
            new, _ = eventually(lambda old=old: sole_leader(stack, [n for n in INSTANCES if n != old]), timeout=bound)
            time.sleep(1.0)
            stack.compose("start", old)
            eventually(lambda: sole_leader(stack), timeout=60)
            time.sleep(1.0)
            trials.append(
                {
                    "faultAt": round(killed_at, 3),
                    "oldLeader": old,
                    "newLeader": new,
                    "writeUnavailableSeconds": unavailability(writer.results(), killed_at),
                }
            )
    writes = writer.results()
    failed = failures(writes)
    counts = check_journal(stack, writes)
    assert_invariants(stack)
    write_scenario(
        "kill-writes",
        {"writeRate": WRITE_RATE, "kills": KILLS, "journal": counts, "failed": [vars(w) for w in failed]},
        trials,
    )
    assert not failed, f"{len(failed)} of {len(writes)} writes failed: {failed[:5]}"
    assert counts["acknowledged"] == len(writes)


def test_an_append_no_leader_could_take_is_unknown_not_refused_and_its_resend_writes_it_once(stack: Stack) -> None:
    """With two of three ZooKeeper servers down no leader can be elected, and a
    keyless append through the gateway waits out its deadline. The gateway
    has sent it more than once by then (every 503 is retried), and an attempt
    that timed out may have committed: so the answer is 504 with the key the
    gateway gave it, never 503 "nothing was written". Resent under that key
    once the ensemble is back, it is written exactly once."""
    eventually(lambda: sole_leader(stack), timeout=60)
    lost = ZK_SERVERS[:2]
    message = f"unplaced-{time.time_ns()}"
    stack.compose("kill", *lost)
    try:
        eventually(lambda: expect(not any(v and v["isLeader"] for v in stack.views().values())), SESSION_TIMEOUT + 2)
        answer = requests.post(f"{stack.gateway_url}/journal", json={"message": message}, timeout=CLIENT_TIMEOUT + 5)
    finally:
        stack.compose("start", *lost)
    assert answer.status_code == 504, (answer.status_code, answer.text)
    key = answer.headers.get("Idempotency-Key")
    assert key, dict(answer.headers)
    assert "same Idempotency-Key" in answer.json()["error"]

    eventually(lambda: expect(all(stack.zk_mode(s) for s in ZK_SERVERS)), timeout=90)
    leader, _ = eventually(lambda: sole_leader(stack), timeout=60)

    def resend() -> requests.Response:
        response = requests.post(
            f"{stack.gateway_url}/journal", json={"message": message}, headers={"Idempotency-Key": key}, timeout=10
        )
        expect(response.status_code == 201, f"resend answered {response.status_code}: {response.text}")
        return response

    first = eventually(resend, timeout=30)
    again = resend()
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Idempotency-Key"] == key
    written = [e for e in read_journal(stack, leader) if e["message"] == message]
    assert len(written) == 1, written
