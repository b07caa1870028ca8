"""Bad input through the gateway is the client's error (400), and nothing is written.

The same contract as the unit tests of the web layer, over the whole path a
client takes: HAProxy (which adds an Idempotency-Key to a keyless append and
resends unknown outcomes), gunicorn, the participant and ZooKeeper.
"""

from __future__ import annotations

import pytest
import requests

from tests.support.journal_writers import read_journal
from tests.support.waiting import eventually

from .conftest import ADMIN_TOKEN, Stack, sole_leader

pytestmark = pytest.mark.stack

NESTED = b"[" * 2000 + b"]" * 2000  # under the 4 KiB body limit, far deeper than json.loads recurses
LONE_SURROGATE = b'{"message": "\\ud800"}'


@pytest.mark.parametrize(
    ("route", "body", "headers"),
    [
        ("/journal", NESTED, {}),
        ("/leader/switchover", NESTED, {"Authorization": f"Bearer {ADMIN_TOKEN}"}),
        ("/journal", LONE_SURROGATE, {}),
        ("/journal", LONE_SURROGATE, {"Idempotency-Key": "stack-bad-input-1"}),
    ],
    ids=["nested-journal", "nested-switchover", "surrogate", "surrogate-with-key"],
)
def test_bad_input_through_the_gateway_is_a_400_and_writes_nothing(
    stack: Stack, route: str, body: bytes, headers: dict[str, str]
) -> None:
    leader, _ = eventually(lambda: sole_leader(stack), timeout=60)
    before = read_journal(stack, leader)
    response = requests.post(
        f"{stack.gateway_url}{route}",
        data=body,
        headers={"Content-Type": "application/json", **headers},
        timeout=10,
    )
    assert response.status_code == 400, (response.status_code, response.text[:200])
    assert response.json()["status"] == 400
    assert read_journal(stack, leader) == before
