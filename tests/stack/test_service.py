"""The HTTP service as deployed: contract, workers, resign."""

from __future__ import annotations

import json

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support.compose import run
from tests.support.waiting import eventually, expect

from .conftest import ADMIN_TOKEN, INSTANCES, ZK_DIGEST_PASSWORD, Stack, sole_leader

pytestmark = pytest.mark.stack


def test_every_instance_is_ready_lists_the_same_cluster_and_exports_metrics(stack: Stack) -> None:
    leader, view = eventually(lambda: sole_leader(stack), timeout=60)
    clusters = []
    for name in INSTANCES:
        assert stack.get(name, "/health/live").status_code == 200
        ready = stack.get(name, "/health/ready")
        assert ready.status_code == 200, ready.text
        cluster = stack.get(name, "/cluster", timeout=5)
        assert cluster.status_code == 200, cluster.text
        clusters.append(cluster.json()["participants"])
        metrics = _samples(stack.get(name, "/metrics").text)
        assert metrics["zkleader_is_leader"] == (1.0 if name == leader else 0.0)
        assert metrics["zkleader_epoch"] == float(view["epoch"])
    members = clusters[0]
    # One participant per container, even though each runs several gunicorn workers.
    assert sorted(m["instance"] for m in members) == sorted(INSTANCES)
    assert [m["isLeader"] for m in members] == [True, False, False]
    assert members[0]["instance"] == leader
    assert all(c == members for c in clusters)


def _samples(text: str) -> dict[str, float]:
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if not sample.labels
    }


def test_errors_are_json(stack: Stack) -> None:
    missing = stack.get("api1", "/no/such/path")
    assert missing.status_code == 404 and missing.json()["status"] == 404
    wrong = requests.put(f"http://127.0.0.1:{stack.ports['api1']}/leader", timeout=2)
    assert wrong.status_code == 405 and wrong.json()["status"] == 405


def test_more_workers_still_make_one_participant(stack: Stack) -> None:
    eventually(lambda: sole_leader(stack), timeout=60)
    try:
        stack.compose("up", "-d", "--wait", "--no-deps", "api3", env={"GUNICORN_WORKERS": "4"})
        processes = stack.compose("top", "api3")
        assert processes.count("gunicorn") >= 5, processes  # the master and four workers
        eventually(lambda: sole_leader(stack), timeout=30)
        members = stack.get("api1", "/cluster", timeout=5).json()["participants"]
        assert sorted(m["instance"] for m in members) == sorted(INSTANCES)
        # Each new connection may land on another worker: all tell the same story.
        answers = {str(sorted(stack.get("api3", "/leader").json().items())) for _ in range(40)}
        assert len(answers) == 1, answers
    finally:
        stack.compose("up", "-d", "--wait", "--no-deps", "api3")


def test_resign_hands_over_and_a_follower_cannot_resign(stack: Stack) -> None:
    leader, view = eventually(lambda: sole_leader(stack), timeout=60)
    follower = next(name for name in INSTANCES if name != leader)
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    port = stack.ports

    refused = requests.post(f"http://127.0.0.1:{port[follower]}/leader/resign", headers=auth, timeout=10)
    assert refused.status_code == 409, refused.text
    unauthorised = requests.post(f"http://127.0.0.1:{port[leader]}/leader/resign", timeout=10)
    assert unauthorised.status_code == 401

    accepted = requests.post(f"http://127.0.0.1:{port[leader]}/leader/resign", headers=auth, timeout=10)
    assert accepted.status_code == 202, accepted.text
    new_leader, new_view = eventually(lambda: sole_leader(stack), timeout=10)
    assert new_leader != leader
    assert new_view["epoch"] > view["epoch"]
    assert stack.history(leader)[-1]["reason"] == "resigned"
    expect(stack.leader_view(leader) is not None)


def test_logs_are_json_lines_with_the_instance_and_never_show_secrets(stack: Stack) -> None:
    eventually(lambda: sole_leader(stack), timeout=60)
    for name in INSTANCES:
        lines = [line for line in stack.compose("logs", "--no-log-prefix", name).splitlines() if line.strip()]
        assert lines, f"{name} logged nothing"
        entries = []
        for line in lines:
            entry = json.loads(line)  # every line is one JSON object
            assert entry["instance"] == name, entry
            entries.append(entry)
        # Leadership changes carry their epoch (and, when a term ends, the reason).
        for entry in entries:
            if entry["message"] == "elected leader":
                assert isinstance(entry["epoch"], int)
            if entry["message"] == "leadership ended":
                assert isinstance(entry["epoch"], int) and entry["reason"]
        text = "\n".join(lines)
        assert ADMIN_TOKEN not in text and ZK_DIGEST_PASSWORD not in text
    assert any(
        e["message"] == "elected leader"
        for name in INSTANCES
        for e in map(json.loads, filter(str.strip, stack.compose("logs", "--no-log-prefix", name).splitlines()))
    )


def _health(stack: Stack, service: str) -> str:
    return run(["docker", "inspect", "--format", "{{.State.Health.Status}}", stack.container(service)]).strip()


def _signal_participant(stack: Stack, service: str, sig: str) -> None:
    script = (
        "import json, os, signal; "
        "pid = json.load(open('/var/lib/zkleader/state.json'))['pid']; "
        f"os.kill(pid, signal.{sig})"
    )
    run(["docker", "exec", stack.container(service), "python3", "-c", script])


def test_a_wedged_participant_makes_its_container_unhealthy(stack: Stack) -> None:
    """Issue 10, defect 10: liveness tied to the election worker, seen by Docker's healthcheck."""
    leader, _ = eventually(lambda: sole_leader(stack), timeout=60)
    follower = next(name for name in INSTANCES if name != leader)
    expect(_health(stack, follower) == "healthy", "not healthy to begin with")
    _signal_participant(stack, follower, "SIGSTOP")  # the worker running the participant freezes
    try:
        eventually(lambda: expect(_health(stack, follower) == "unhealthy", _health(stack, follower)), timeout=25)
        answer = stack.get(follower, "/health/live", timeout=5)
        assert answer.status_code == 503 and answer.json()["alive"] is False, answer.text
    finally:
        _signal_participant(stack, follower, "SIGCONT")
    eventually(lambda: expect(_health(stack, follower) == "healthy", _health(stack, follower)), timeout=30)
    eventually(lambda: sole_leader(stack), timeout=30)
