"""A killed leader's term, as its restarted container records it, ends when its lease did.

A dead process led nobody: the term its snapshot leaves open must end no later
than the lease it last held, even when the last snapshot before the kill was a
suspension (whose status carries no lease), or the records show an overlap
with the successor's term that never happened.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.waiting import eventually, expect
from zkleader.config import Settings
from zkleader.election.lease import now, wall_time_of
from zkleader.runtime import host as host_module
from zkleader.runtime import snapshot
from zkleader.runtime.paths import RuntimePaths
from zkleader.testing import FakeKazooClient

from .test_election_faults import Blocker

SESSION_TIMEOUT = 4.0


def test_a_term_open_when_a_suspended_leader_is_killed_ends_at_its_last_lease(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = FakeKazooClient(timeout=SESSION_TIMEOUT)
    monkeypatch.setattr(host_module, "make_client", lambda settings: client)
    settings = Settings(
        zk_hosts="127.0.0.1:2181",
        election_path="/election",
        instance_id="api1",
        advertised_address="http://api1:8000",
        session_timeout=SESSION_TIMEOUT,
        credentials=None,
        admin_token=None,
        log_level="INFO",
        state_dir=str(tmp_path),
    )
    paths = RuntimePaths(str(tmp_path))
    participant = host_module.ElectionHost(settings, paths)
    participant.start()
    blocker = Blocker("sync")
    try:
        eventually(lambda: expect(participant.election.is_leader, "never led"), timeout=3)
        # The next renewal hangs in the worker, so the lease stays where it is and
        # the suspension below is published by the listener alone: the snapshot a
        # kill would leave says "suspended", with the term still open.
        blocker.block(client)
        deadline = participant.election.status.lease_deadline
        assert deadline is not None
        lease_ran_out_at = wall_time_of(deadline)
        client.suspend()
        eventually(lambda: expect(snapshot.read(paths.snapshot).status.state.value == "suspended"), timeout=2)
        # The process is "killed" here: its container restarts after the lease ran out.
        while now() < deadline + 0.3:
            time.sleep(0.05)

        inherited = snapshot.inherited_history(paths.snapshot)
        assert inherited[-1].reason == "process ended", inherited
        ended_at = inherited[-1].ended_at
        assert ended_at is not None
        assert ended_at <= lease_ran_out_at + 0.01, (
            f"the killed leader's term ends {ended_at - lease_ran_out_at:.3f} s after its lease ran out"
        )
    finally:
        blocker.unblock()
        participant.close(timeout=2)
