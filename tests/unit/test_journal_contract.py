"""What a client is told about an append: bad input is a 400, a written entry is never "nothing written".

The documented resend rule: a 503 means nothing was written and may be resent
anywhere, even under a new key; a 504 may have happened and is resent only
under the same ``Idempotency-Key``. Answering 503 for an entry that is
written makes a client following the rule write it twice.
"""

from __future__ import annotations

import json
import time

import pytest
from flask.testing import FlaskClient
from kazoo.exceptions import ConnectionLoss, SessionExpiredError

from zkleader.election import Fence
from zkleader.journal import AppendOutcome
from zkleader.journal.store import Journal
from zkleader.testing import FakeKazooClient, Result
from zkleader.web import create_app

from .test_journal_web import FakeJournal
from .test_web import TOKEN, FakeView, leading

MEMBER = "/election/member-0000000001"
NESTED = b"[" * 2000 + b"]" * 2000  # under the 4 KiB body limit, far deeper than json.loads recurses


def journal_on_fake_server() -> tuple[Journal, FakeKazooClient, Fence]:
    client = FakeKazooClient()
    client.start()
    client.ensure_path("/election")
    client.create(MEMBER, b"", ephemeral=True)
    journal = Journal(client, "/journal", [], instance="api1", timeout=1.0, clock=time.time)
    return journal, client, Fence(MEMBER, 7)


def test_a_resend_whose_entry_is_written_but_unreadable_is_never_answered_nothing_written() -> None:
    journal, client, fence = journal_on_fake_server()
    first = journal.append(fence, "pay 10", key="k-1")
    assert first.outcome is AppendOutcome.APPENDED

    def reads_fail(op: str, path: str) -> None:
        if op == "get" and "/keys/" in path:
            raise ConnectionLoss("the connection dropped while replaying")

    client.hook = reads_fail
    again = journal.append(fence, "pay 10", key="k-1")
    assert again.outcome is AppendOutcome.UNKNOWN, again  # 504: resend only under the same key
    assert again.outcome not in (AppendOutcome.UNAVAILABLE, AppendOutcome.NOT_LEADER)
    assert "same key" in (again.detail or "")

    client.hook = None
    replayed = journal.append(fence, "pay 10", key="k-1")
    assert replayed.outcome is AppendOutcome.REPLAYED and replayed.entry == first.entry


@pytest.mark.parametrize("key", [None, "k-2"])
def test_a_message_utf8_cannot_encode_is_refused_and_nothing_written(key: str | None) -> None:
    journal, _, fence = journal_on_fake_server()
    result = journal.append(fence, "\ud800", key=key)  # never raises
    assert result.outcome is AppendOutcome.INVALID, result
    assert journal.read(0, 10) == []


@pytest.fixture
def journal() -> FakeJournal:
    return FakeJournal()


@pytest.fixture
def client(journal: FakeJournal) -> FlaskClient:
    return create_app(FakeView(current=leading()), admin_token=TOKEN, journal=journal).test_client()


@pytest.mark.parametrize("headers", [{}, {"Idempotency-Key": "k-3"}])
def test_a_lone_surrogate_is_a_400_with_or_without_a_key(
    client: FlaskClient, journal: FakeJournal, headers: dict[str, str]
) -> None:
    response = client.post("/journal", data='{"message": "\\ud800"}', content_type="application/json", headers=headers)
    assert response.status_code == 400, response.get_json()
    assert journal.appended == []


@pytest.mark.parametrize("route", ["/journal", "/leader/switchover"])
def test_deeply_nested_json_is_a_400_on_every_route_that_reads_a_body(
    client: FlaskClient, journal: FakeJournal, route: str
) -> None:
    assert len(NESTED) <= 4096
    response = client.post(
        route, data=NESTED, content_type="application/json", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 400, (response.status_code, response.get_data(as_text=True)[:200])
    assert json.loads(response.get_data())["status"] == 400
    assert journal.appended == []


def test_a_commit_kazoo_refuses_before_sending_is_nothing_written_not_outcome_unknown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    journal, client, fence = journal_on_fake_server()
    assert journal.append(fence, "first").outcome is AppendOutcome.APPENDED
    transaction = client.transaction

    def refused() -> object:
        tx = transaction()
        # What kazoo's _call does for an expired session: the error is on the result, nothing is sent.
        monkeypatch.setattr(tx, "commit_async", lambda: Result(exc=SessionExpiredError()))
        return tx

    monkeypatch.setattr(client, "transaction", refused)
    result = journal.append(fence, "second", key="k-9")
    assert result.outcome is AppendOutcome.UNAVAILABLE, result  # 503: safe to resend anywhere
    assert "nothing sent" in (result.detail or "")
