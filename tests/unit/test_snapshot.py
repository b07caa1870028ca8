"""The shared snapshot: round trip, owner liveness, terms inherited after a kill."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from zkleader.election import ElectionState, LeaderInfo, Status, Term
from zkleader.election.lease import now
from zkleader.runtime import snapshot
from zkleader.runtime.paths import RuntimePaths
from zkleader.runtime.view import SharedView


def leading(deadline: float) -> Status:
    return Status(
        state=ElectionState.LEADER,
        instance="api1",
        epoch=7,
        leader=LeaderInfo("api1", "http://api1:8000", 7),
        lease_deadline=deadline,
        enrolled=True,
        node="member-x-0000000001",
        session_timeout=4.0,
        transitions=3,
        last_election_at=1.0,
        election_notifications=2,
    )


def test_round_trip(tmp_path: Path) -> None:
    state = snapshot.SharedState(leading(now() + 2), [Term(5, 1.0, 2.0, "closed"), Term(7, 3.0)], os.getpid(), None)
    path = str(tmp_path / "state.json")
    snapshot.write(path, state)
    assert snapshot.read(path) == state
    assert snapshot.read(str(tmp_path / "missing.json")) is None


def test_owner_liveness_survives_pid_reuse() -> None:
    me = snapshot.SharedState(leading(0.0), [], os.getpid(), snapshot.process_start(os.getpid()))
    assert me.owner_alive()
    # Same pid, another start time: a new process that reuses the pid.
    assert not snapshot.SharedState(leading(0.0), [], os.getpid(), (me.pid_start or 0) + 1).owner_alive()
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    gone = int(done.stdout)
    assert not snapshot.SharedState(leading(0.0), [], gone, 12345).owner_alive()


def test_a_term_left_open_by_a_killed_process_ends_at_its_lease(tmp_path: Path) -> None:
    path = str(tmp_path / "state.json")
    ran_out = time.time() - 30  # the lease ran out 30 s ago
    terms = [Term(5, 1.0, 2.0, "closed"), Term(7, 3.0)]
    snapshot.write(path, snapshot.SharedState(leading(now() - 30), terms, 1, None, ran_out))
    expires = json.loads(Path(path).read_text())["leaseExpiresAt"]
    assert expires == ran_out

    terms = snapshot.inherited_history(path)
    assert terms[0] == Term(5, 1.0, 2.0, "closed")
    assert terms[1].epoch == 7 and terms[1].reason == "process ended"
    assert terms[1].ended_at == expires


def test_defect4_a_new_snapshot_with_the_same_inode_and_mtime_is_seen(tmp_path: Path) -> None:
    paths = RuntimePaths(str(tmp_path))
    view = SharedView(paths, "api1", 4.0)
    me = (os.getpid(), snapshot.process_start(os.getpid()))
    snapshot.write(paths.snapshot, snapshot.SharedState(leading(now() + 60), [], *me))
    assert view.status().state is ElectionState.LEADER
    before = os.stat(paths.snapshot)

    # The next snapshot lands on the same inode within the same mtime tick
    # (mkstemp reusing the inode os.replace just freed): same (st_ino, st_mtime_ns).
    revoked = replace(leading(now() + 60), state=ElectionState.FOLLOWER, lease_deadline=None)
    with open(paths.snapshot, "r+b") as out:
        out.write(snapshot.encode(snapshot.SharedState(revoked, [], *me)))
        out.truncate()
    os.utime(paths.snapshot, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(paths.snapshot)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)

    assert view.status().state is ElectionState.FOLLOWER


def test_a_term_left_open_without_a_recorded_lease_ends_at_the_files_last_write(tmp_path: Path) -> None:
    path = str(tmp_path / "state.json")
    snapshot.write(path, snapshot.SharedState(leading(now() - 30), [Term(7, 3.0)], 1, None))
    written_at = os.stat(path).st_mtime
    time.sleep(0.05)

    (term,) = snapshot.inherited_history(path)
    assert term.reason == "process ended" and term.ended_at == written_at
