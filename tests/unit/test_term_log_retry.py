"""A term-log grant retried after a lost reply is recognised as written, not retried until it gives up.

In a failed multi ZooKeeper answers ``RolledBackError`` for the operations
before the failing one; the cause (the grant's node already exists) is the
first other error.
"""

from __future__ import annotations

import pytest

from zkleader.cluster.report import ClusterTerm
from zkleader.cluster.term_log import ClusterTermLog
from zkleader.election import Fence
from zkleader.testing import FakeKazooClient

MEMBER = "/election/member-0000000001"


def test_a_grant_already_written_is_recognised_when_the_listing_lags(monkeypatch: pytest.MonkeyPatch) -> None:
    client = FakeKazooClient()
    client.start()
    client.ensure_path("/election")
    client.create(MEMBER, b"", ephemeral=True)
    log = ClusterTermLog(client, "/election-terms")
    fence = Fence(MEMBER, 7)
    term = ClusterTerm(7, "api1", "http://api1:8000", 1.0)
    log.record_grant(fence, term)  # written; suppose its reply was lost and the grant is retried

    listing = client.get_children
    monkeypatch.setattr(client, "get_children", lambda path: [])  # a server that has not applied it yet
    log.record_grant(fence, term)  # must not raise "term log transaction kept failing"

    monkeypatch.setattr(client, "get_children", listing)
    assert log.recent() == [term]
