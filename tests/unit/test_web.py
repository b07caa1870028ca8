"""The HTTP contract, through Flask's test client and a view we control."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest
from flask.testing import FlaskClient

from zkleader.election import ElectionState, Identity, LeaderInfo, Liveness, Participant, Status, Term
from zkleader.election.lease import now
from zkleader.election.switchover import SwitchoverResult
from zkleader.web import create_app

TOKEN = "s3cret-token"


@dataclass
class FakeView:
    """Stands in for the participant; the web layer only knows this protocol."""

    current: Status
    terms: list[Term] = field(default_factory=list)
    members: list[Participant] = field(default_factory=list)
    resign_result: bool | Exception = True
    resigned: int = 0
    alive: Liveness = field(default_factory=lambda: Liveness(True, 0.0, 4.0))
    watchers: list[Identity] = field(default_factory=list)
    switchover_result: SwitchoverResult | Exception = field(
        default_factory=lambda: SwitchoverResult("done", "api3 leads", {"leader": "api3", "epoch": 99})
    )
    switchovers: list[str] = field(default_factory=list)

    def status(self) -> Status:
        return self.current

    def history(self) -> list[Term]:
        return self.terms

    def participants(self) -> list[Participant]:
        return self.members

    def liveness(self) -> Liveness:
        return self.alive

    def observers(self) -> list[Identity]:
        return self.watchers

    def switchover(self, candidate: str) -> SwitchoverResult:
        self.switchovers.append(candidate)
        if isinstance(self.switchover_result, Exception):
            raise self.switchover_result
        return self.switchover_result

    def resign(self) -> bool:
        self.resigned += 1
        if isinstance(self.resign_result, Exception):
            raise self.resign_result
        return self.resign_result


def leading(epoch: int = 42) -> Status:
    return Status(
        state=ElectionState.LEADER,
        instance="api1",
        epoch=epoch,
        leader=LeaderInfo("api1", "http://api1:8000", epoch),
        lease_deadline=now() + 60,
        enrolled=True,
        node="member-x-0000000001",
        session_timeout=4.0,
        transitions=1,
        last_election_at=1_700_000_000.0,
    )


def following() -> Status:
    return replace(
        leading(), state=ElectionState.FOLLOWER, lease_deadline=None, leader=LeaderInfo("api2", "http://api2:8000", 42)
    )


@pytest.fixture
def view() -> FakeView:
    return FakeView(current=leading())


@pytest.fixture
def client(view: FakeView) -> FlaskClient:
    return create_app(view, admin_token=TOKEN).test_client()


def test_leader_as_the_leader(client: FlaskClient) -> None:
    response = client.get("/leader")
    assert response.status_code == 200
    assert response.get_json() == {
        "isLeader": True,
        "instance": "api1",
        "state": "leader",
        "role": "candidate",
        "epoch": 42,
        "leader": {"instance": "api1", "address": "http://api1:8000"},
    }
    lease = client.get("/leader?include=lease").get_json()["leaseRemaining"]
    assert 59 < lease <= 60  # leading() grants a 60 s lease


def test_leader_as_a_follower(client: FlaskClient, view: FakeView) -> None:
    view.current = following()
    body = client.get("/leader").get_json()
    assert body["isLeader"] is False and body["state"] == "follower"
    assert body["leader"] == {"instance": "api2", "address": "http://api2:8000"}
    assert client.get("/leader?include=lease").get_json()["leaseRemaining"] is None


def test_expired_lease_is_not_leader_even_in_leader_state(client: FlaskClient, view: FakeView) -> None:
    view.current = replace(leading(), lease_deadline=now() - 0.001)
    body = client.get("/leader?include=lease").get_json()
    assert body["isLeader"] is False and body["leaseRemaining"] is None


@pytest.mark.parametrize("state", ["connecting", "suspended", "stopped"])
def test_leader_while_not_connected(client: FlaskClient, view: FakeView, state: str) -> None:
    view.current = replace(following(), state=ElectionState(state), leader=None, epoch=None, enrolled=False)
    body = client.get("/leader").get_json()
    assert body == {
        "isLeader": False,
        "instance": "api1",
        "state": state,
        "role": "candidate",
        "epoch": None,
        "leader": None,
    }


def test_history(client: FlaskClient, view: FakeView) -> None:
    view.terms = [Term(7, 100.0, 105.5, "connection suspended"), Term(9, 200.0)]
    assert client.get("/leader/history").get_json() == [
        {"epoch": 7, "electedAt": 100.0, "endedAt": 105.5, "reason": "connection suspended"},
        {"epoch": 9, "electedAt": 200.0, "endedAt": None, "reason": None},
    ]


def test_cluster(client: FlaskClient, view: FakeView) -> None:
    view.members = [
        Participant("api1", "http://api1:8000", 3, "member-a-0000000003", True),
        Participant("api2", "http://api2:8000", 5, "member-b-0000000005", False),
    ]
    assert client.get("/cluster").get_json()["participants"] == [
        {"instance": "api1", "address": "http://api1:8000", "sequence": 3, "isLeader": True},
        {"instance": "api2", "address": "http://api2:8000", "sequence": 5, "isLeader": False},
    ]


def test_cluster_when_zookeeper_is_unavailable(client: FlaskClient, view: FakeView) -> None:
    def broken() -> list[Participant]:
        raise ConnectionError("no ZooKeeper")

    view.participants = broken  # type: ignore[method-assign]
    response = client.get("/cluster")
    assert response.status_code == 503
    assert response.get_json()["status"] == 503


def test_defect10_liveness_fails_when_the_election_worker_is_stuck(client: FlaskClient, view: FakeView) -> None:
    view.alive = Liveness(False, 6.5, 4.0, "the election worker has been on one task for 6.5s")
    response = client.get("/health/live")
    assert response.status_code == 503
    assert response.get_json()["alive"] is False


def test_health(client: FlaskClient, view: FakeView) -> None:
    assert client.get("/health/live").status_code == 200
    assert client.get("/health/ready").get_json() == {"ready": True, "state": "leader"}
    view.current = replace(following(), state=ElectionState.SUSPENDED, reason="connection to ZooKeeper suspended")
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.get_json()["reason"] == "connection to ZooKeeper suspended"
    assert client.get("/health/live").status_code == 200


def test_metrics(client: FlaskClient) -> None:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    text = response.get_data(as_text=True)
    for line in (
        "zkleader_is_leader 1.0",
        "zkleader_epoch 42.0",
        "zkleader_leadership_transitions_total 1.0",
        'zkleader_election_state{state="leader"} 1.0',
        'zkleader_election_state{state="follower"} 0.0',
        "zkleader_last_election_timestamp_seconds 1.7e+09",
    ):
        assert line in text


def test_resign_needs_a_bearer_token(client: FlaskClient, view: FakeView) -> None:
    missing = client.post("/leader/resign")
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == "Bearer"
    wrong = client.post("/leader/resign", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    assert view.resigned == 0
    ok = client.post("/leader/resign", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 202 and ok.get_json()["resigned"] is True
    assert view.resigned == 1


def test_resign_when_not_leading_is_a_conflict(client: FlaskClient, view: FakeView) -> None:
    view.resign_result = False
    response = client.post("/leader/resign", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 409 and response.get_json()["status"] == 409


def test_resign_is_disabled_without_a_configured_token(view: FakeView) -> None:
    client = create_app(view, admin_token=None).test_client()
    response = client.post("/leader/resign", headers={"Authorization": "Bearer anything"})
    assert response.status_code == 404
    assert "disabled" in response.get_json()["error"]
    assert view.resigned == 0


AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_switchover_answers_202_with_the_new_leader(client: FlaskClient, view: FakeView) -> None:
    response = client.post("/leader/switchover", json={"candidate": "api3"}, headers=AUTH)
    assert response.status_code == 202
    assert response.get_json() == {"switchedOver": True, "candidate": "api3", "leader": "api3", "epoch": 99}
    assert view.switchovers == ["api3"]


def test_switchover_needs_the_token_as_resign_does(view: FakeView) -> None:
    client = create_app(view, admin_token=TOKEN).test_client()
    missing = client.post("/leader/switchover", json={"candidate": "api3"})
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == "Bearer"
    malformed = client.post("/leader/switchover", json={"candidate": "api3"}, headers={"Authorization": TOKEN})
    assert malformed.status_code == 401
    wrong = client.post("/leader/switchover", json={"candidate": "api3"}, headers={"Authorization": "Bearer no"})
    assert wrong.status_code == 403 and wrong.get_json() == {"status": 403, "error": "wrong token"}
    disabled = create_app(view, admin_token=None).test_client()
    off = disabled.post("/leader/switchover", json={"candidate": "api3"}, headers=AUTH)
    assert off.status_code == 404 and "disabled" in off.get_json()["error"]
    assert view.switchovers == []


@pytest.mark.parametrize("body", [b"not json", b'{"candidate": 3}', b"{}", b'["api3"]', b'{"candidate": ""}'], ids=str)
def test_switchover_with_a_bad_body_is_400(client: FlaskClient, view: FakeView, body: bytes) -> None:
    response = client.post("/leader/switchover", data=body, content_type="application/json", headers=AUTH)
    assert response.status_code == 400 and response.get_json()["status"] == 400
    assert view.switchovers == []


@pytest.mark.parametrize(
    ("outcome", "status"),
    [("not-eligible", 412), ("busy", 409), ("no-leader", 503), ("not-completed", 503)],
)
def test_switchover_refusals_keep_the_error_shape(
    client: FlaskClient, view: FakeView, outcome: str, status: int
) -> None:
    view.switchover_result = SwitchoverResult(outcome, f"because {outcome}")
    response = client.post("/leader/switchover", json={"candidate": "api3"}, headers=AUTH)
    assert response.status_code == status
    assert response.get_json() == {"status": status, "error": f"because {outcome}"}


def test_switchover_when_the_participant_is_away_is_503(client: FlaskClient, view: FakeView) -> None:
    view.switchover_result = RuntimeError("no election participant is running in this container")
    response = client.post("/leader/switchover", json={"candidate": "api3"}, headers=AUTH)
    assert response.status_code == 503 and "no election participant" in response.get_json()["error"]


def test_an_observer_is_neither_primary_nor_replica_but_ready(client: FlaskClient, view: FakeView) -> None:
    view.current = replace(following(), state=ElectionState.OBSERVER, enrolled=False, node=None, role="observer")
    body = client.get("/leader").get_json()
    assert body["state"] == "observer" and body["role"] == "observer" and body["isLeader"] is False
    assert body["leader"] == {"instance": "api2", "address": "http://api2:8000"}
    assert client.get("/primary").status_code == 503
    assert client.get("/replica").status_code == 503
    assert client.get("/health/ready").status_code == 200


def test_unknown_path_and_wrong_method_are_json(client: FlaskClient) -> None:
    missing = client.get("/nope")
    assert missing.status_code == 404 and missing.get_json()["status"] == 404
    wrong = client.delete("/leader")
    assert wrong.status_code == 405 and wrong.get_json()["status"] == 405
    assert "GET" in wrong.headers["Allow"]


def test_an_unexpected_error_is_json_without_a_stack_trace(client: FlaskClient, view: FakeView) -> None:
    def broken() -> Status:
        raise RuntimeError("secret internals at line 42")

    view.status = broken  # type: ignore[method-assign]
    response = client.get("/leader")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "secret internals" not in body and "Traceback" not in body
    assert response.get_json()["status"] == 500
