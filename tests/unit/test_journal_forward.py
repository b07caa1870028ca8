"""A follower holds a gateway write until a leader is known, then forwards it
(Flask's test client; the "leader" is a local HTTP server on 127.0.0.1)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from zkleader.election import LeaderInfo
from zkleader.journal import AppendOutcome, AppendResult
from zkleader.web import create_app

from .test_journal_web import FakeJournal
from .test_web import TOKEN, FakeView, following, leading


class FakeLeader:
    """Answers POST /journal with a programmed status and records what it got."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, dict[str, Any]]] = []
        self.received: list[tuple[dict[str, str], bytes]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                owner.received.append((dict(self.headers), body))
                status, payload = (
                    owner.answers.pop(0) if owner.answers else (201, {"seq": 1, "epoch": 9, "instance": "api2"})
                )
                if status == 0:  # drop the connection without answering
                    self.close_connection = True
                    self.connection.close()
                    return
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def leader() -> Iterator[FakeLeader]:
    fake = FakeLeader()
    yield fake
    fake.server.shutdown()


def follower_of(address: str) -> FakeView:
    return FakeView(current=replace(following(), leader=LeaderInfo("api2", address, 9), session_timeout=1.0))


def not_leader() -> FakeJournal:
    return FakeJournal(result=AppendResult(AppendOutcome.NOT_LEADER, detail="not leader; nothing written"))


def post(view: FakeView, journal: FakeJournal, hold: bool = True, **headers: str) -> Any:
    client = create_app(view, admin_token=TOKEN, journal=journal).test_client()
    if hold:
        headers["Zkleader-Hold"] = "1"
    return client.post("/journal", data=b'{"message": "m"}', content_type="application/json", headers=headers)


def test_without_the_hold_header_a_follower_answers_503_at_once(leader: FakeLeader) -> None:
    response = post(follower_of(leader.address), not_leader(), hold=False)
    assert response.status_code == 503 and leader.received == []


def test_a_held_write_is_forwarded_to_the_leader_with_its_key(leader: FakeLeader) -> None:
    response = post(follower_of(leader.address), not_leader(), **{"Idempotency-Key": "k-9"})
    assert response.status_code == 201 and response.get_json() == {"seq": 1, "epoch": 9, "instance": "api2"}
    ((headers, body),) = leader.received
    assert json.loads(body) == {"message": "m"}
    assert headers["Idempotency-Key"] == "k-9" and headers["Zkleader-Forwarded"] == "api1"


def test_a_forwarded_write_is_never_held_or_forwarded_again(leader: FakeLeader) -> None:
    response = post(follower_of(leader.address), not_leader(), **{"Zkleader-Forwarded": "api3"})
    assert response.status_code == 503 and leader.received == []


def test_the_write_waits_until_a_leader_is_known(leader: FakeLeader) -> None:
    view = FakeView(current=replace(following(), leader=None, session_timeout=2.0))
    threading.Timer(0.3, lambda: setattr(view, "current", follower_of(leader.address).current)).start()
    started = time.monotonic()
    response = post(view, not_leader())
    assert response.status_code == 201
    assert 0.25 < time.monotonic() - started < 2.0


def test_a_follower_that_becomes_leader_appends_itself(leader: FakeLeader) -> None:
    view = FakeView(current=replace(following(), leader=None, session_timeout=2.0))
    journal = not_leader()

    def promote() -> None:
        view.current = leading()
        journal.result = AppendResult(AppendOutcome.APPENDED, journal.result.entry or FakeJournal().result.entry)

    threading.Timer(0.2, promote).start()
    response = post(view, journal)
    assert response.status_code == 201 and leader.received == []
    assert len(journal.appended) == 2  # refused while following, then appended as leader


def test_a_503_from_the_leader_is_tried_again(leader: FakeLeader) -> None:
    leader.answers = [(503, {"error": "stopping"}), (201, {"seq": 4, "epoch": 9, "instance": "api2"})]
    response = post(follower_of(leader.address), not_leader())
    assert response.status_code == 201 and response.get_json()["seq"] == 4
    assert len(leader.received) == 2


def test_a_forward_without_an_answer_is_an_unknown_outcome(leader: FakeLeader) -> None:
    leader.answers = [(0, {})]
    response = post(follower_of(leader.address), not_leader())
    assert response.status_code == 504 and response.get_json()["outcomeUnknown"] is True
    assert len(leader.received) == 1  # never resent


def test_an_unreachable_leader_is_tried_until_the_hold_ends() -> None:
    view = follower_of("http://127.0.0.1:9")  # nothing listens: refused, never sent
    started = time.monotonic()
    response = post(view, not_leader())
    assert response.status_code == 503 and response.get_json()["error"]
    assert 1.9 < time.monotonic() - started < 5.0  # session timeout (1 s) + 1 s


def test_the_leaders_answer_is_passed_on(leader: FakeLeader) -> None:
    leader.answers = [(409, {"status": 409, "error": "key used for another message"})]
    response = post(follower_of(leader.address), not_leader())
    assert response.status_code == 409 and "another message" in response.get_json()["error"]
