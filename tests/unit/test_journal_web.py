"""POST/GET /journal through Flask's test client and a journal we control."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask.testing import FlaskClient

from zkleader.journal import AppendOutcome, AppendResult, Entry
from zkleader.web import create_app

from .test_web import TOKEN, FakeView, leading


@dataclass
class FakeJournal:
    result: AppendResult = field(
        default_factory=lambda: AppendResult(AppendOutcome.APPENDED, Entry(7, 42, "api1", "m", 1.0))
    )
    appended: list[tuple[str, str | None]] = field(default_factory=list)
    reads: list[tuple[int, int]] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    read_error: Exception | None = None

    def append(self, message: str, key: str | None) -> AppendResult:
        self.appended.append((message, key))
        return self.result

    def read(self, after: int, limit: int) -> list[dict[str, Any]]:
        self.reads.append((after, limit))
        if self.read_error is not None:
            raise self.read_error
        return self.entries


@pytest.fixture
def journal() -> FakeJournal:
    return FakeJournal()


@pytest.fixture
def client(journal: FakeJournal) -> FlaskClient:
    return create_app(FakeView(current=leading()), admin_token=TOKEN, journal=journal).test_client()


def post(client: FlaskClient, body: Any, **kwargs: Any) -> Any:
    return client.post("/journal", data=json.dumps(body), content_type="application/json", **kwargs)


def test_an_append_answers_201_with_seq_epoch_instance(client: FlaskClient, journal: FakeJournal) -> None:
    response = post(client, {"message": "hello"}, headers={"Idempotency-Key": "k-1"})
    assert response.status_code == 201
    assert response.get_json() == {"seq": 7, "epoch": 42, "instance": "api1"}
    assert journal.appended == [("hello", "k-1")]
    assert "Idempotent-Replayed" not in response.headers


def test_a_replay_answers_like_the_first_time(client: FlaskClient, journal: FakeJournal) -> None:
    journal.result = AppendResult(AppendOutcome.REPLAYED, Entry(7, 42, "api1", "hello", 1.0, "k-1"))
    response = post(client, {"message": "hello"}, headers={"Idempotency-Key": "k-1"})
    assert response.status_code == 201 and response.get_json() == {"seq": 7, "epoch": 42, "instance": "api1"}
    assert response.headers["Idempotent-Replayed"] == "true"


def test_a_non_leader_answers_503_with_the_leader(client: FlaskClient, journal: FakeJournal) -> None:
    journal.result = AppendResult(
        AppendOutcome.NOT_LEADER,
        detail="not leader; nothing written",
        leader_instance="api2",
        leader_address="http://api2:8000",
    )
    response = post(client, {"message": "hello"})
    assert response.status_code == 503
    body = response.get_json()
    assert body["leader"] == {"instance": "api2", "address": "http://api2:8000"} and body["error"]


def test_a_non_leader_without_a_known_leader(client: FlaskClient, journal: FakeJournal) -> None:
    journal.result = AppendResult(AppendOutcome.NOT_LEADER, detail="stopping")
    response = post(client, {"message": "hello"})
    assert response.status_code == 503 and response.get_json()["leader"] is None


@pytest.mark.parametrize(
    ("outcome", "status"),
    [(AppendOutcome.UNKNOWN, 504), (AppendOutcome.CONFLICT, 409), (AppendOutcome.UNAVAILABLE, 503)],
)
def test_other_outcomes(client: FlaskClient, journal: FakeJournal, outcome: AppendOutcome, status: int) -> None:
    journal.result = AppendResult(outcome, detail="why")
    response = post(client, {"message": "hello"})
    assert response.status_code == status and response.get_json()["error"] == "why"
    assert response.get_json().get("outcomeUnknown", False) is (outcome is AppendOutcome.UNKNOWN)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"",
        b"[1, 2]",
        b"null",
        b'{"text": "no message"}',
        b'{"message": 5}',
        b'{"message": null}',
        json.dumps({"message": "x" * 1025}).encode(),
    ],
)
def test_bad_bodies_are_400_and_write_nothing(client: FlaskClient, journal: FakeJournal, body: bytes) -> None:
    response = client.post("/journal", data=body, content_type="application/json")
    assert response.status_code == 400 and response.get_json()["status"] == 400
    assert journal.appended == []


def test_the_longest_message_is_accepted(client: FlaskClient, journal: FakeJournal) -> None:
    body = json.dumps({"message": "é" * 1024}, ensure_ascii=False).encode()  # 2 bytes each in UTF-8
    assert client.post("/journal", data=body, content_type="application/json").status_code == 201
    assert journal.appended == [("é" * 1024, None)]


def test_a_body_over_4_kib_is_413(client: FlaskClient, journal: FakeJournal) -> None:
    body = json.dumps({"message": "a", "pad": "x" * 4100}).encode()
    assert client.post("/journal", data=body, content_type="application/json").status_code == 413
    assert journal.appended == []


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_wrong_content_type_is_415(client: FlaskClient, journal: FakeJournal, content_type: str | None) -> None:
    kwargs = {} if content_type is None else {"content_type": content_type}
    response = client.post("/journal", data=json.dumps({"message": "hi"}), **kwargs)
    assert response.status_code == 415 and response.get_json()["status"] == 415
    assert journal.appended == []


def test_json_with_a_charset_is_fine(client: FlaskClient) -> None:
    response = client.post("/journal", data=b'{"message": "hi"}', content_type="application/json; charset=utf-8")
    assert response.status_code == 201


@pytest.mark.parametrize("key", ["", "x" * 65, "has space", "t\u00e9l\u00e9"])
def test_a_bad_idempotency_key_is_400(client: FlaskClient, journal: FakeJournal, key: str) -> None:
    response = post(client, {"message": "hi"}, headers={"Idempotency-Key": key})
    assert response.status_code == 400
    assert journal.appended == []


def test_read_defaults_and_bounds(client: FlaskClient, journal: FakeJournal) -> None:
    journal.entries = [{"seq": 1, "epoch": 2, "instance": "api1", "message": "m", "at": 1.5}]
    response = client.get("/journal")
    assert response.status_code == 200 and response.get_json() == {"entries": journal.entries}
    client.get("/journal?after=5&limit=1000")
    assert journal.reads == [(0, 100), (5, 1000)]


@pytest.mark.parametrize(
    "query", ["after=-1", "after=x", "after=1.5", "limit=0", "limit=1001", "limit=", "limit=ten", "after=%C2%B2"]
)
def test_bad_read_parameters_are_400(client: FlaskClient, journal: FakeJournal, query: str) -> None:
    response = client.get(f"/journal?{query}")
    assert response.status_code == 400 and response.get_json()["status"] == 400
    assert journal.reads == []


def test_a_read_that_cannot_reach_zookeeper_is_503(client: FlaskClient, journal: FakeJournal) -> None:
    journal.read_error = RuntimeError("no ZooKeeper")
    assert client.get("/journal").status_code == 503


def test_without_a_journal_there_are_no_routes() -> None:
    client = create_app(FakeView(current=leading()), admin_token=TOKEN).test_client()
    assert client.get("/journal").status_code == 404
