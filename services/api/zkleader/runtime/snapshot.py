"""The participant's state as a file every gunicorn worker can read.

Written atomically (write, then rename) by the process that runs the
election on every change; read by whichever worker serves a request. The
lease deadline is stored on the lease clock (``CLOCK_BOOTTIME``), which all
processes of the host share, so a reader decides leadership itself at read
time. The status itself is encoded by :class:`~zkleader.election.Status`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from .. import Status, Term
from .atomic import write_atomically


def process_start(pid: int) -> int | None:
    """When a process started (clock ticks since boot), to tell a live owner
    from a new process that reuses its pid (pids restart in a new container)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[19])  # field 22 of proc(5), counted after "pid (comm)"


@dataclass(frozen=True)
class SharedState:
    status: Status
    history: list[Term]
    pid: int
    pid_start: int | None
    # Unix seconds by which the writer's last lease ran out: what bounds a term
    # it leaves open if it is killed. Kept by the writer across a suspension
    # (whose status has no lease), so not derived from ``status``; not part of
    # equality.
    lease_expires_at: float | None = field(default=None, compare=False)

    def owner_alive(self) -> bool:
        return self.pid_start is not None and process_start(self.pid) == self.pid_start


def encode(state: SharedState) -> bytes:
    s = state.status
    raw: dict[str, Any] = {
        "pid": state.pid,
        "pidStart": state.pid_start,
        **s.to_json(),
        "leaseExpiresAt": state.lease_expires_at,
        "history": [t.to_json() for t in state.history],
    }
    return json.dumps(raw, separators=(",", ":")).encode()


def decode(data: bytes) -> SharedState:
    raw = json.loads(data)
    return SharedState(
        Status.from_json(raw),
        [Term.from_json(t) for t in raw["history"]],
        int(raw["pid"]),
        raw.get("pidStart"),
        raw.get("leaseExpiresAt"),
    )


def write(path: str, state: SharedState) -> None:
    """Atomically replace the snapshot file (write, then rename)."""
    write_atomically(path, encode(state), prefix=".snapshot-")


def read(path: str) -> SharedState | None:
    try:
        with open(path, "rb") as src:
            return decode(src.read())
    except FileNotFoundError:
        return None


def inherited_history(path: str) -> list[Term]:
    """Terms left by an earlier process of this container (e.g. before a kill).

    A term still open there ended, at the latest, when that process's last
    lease ran out (``leaseExpiresAt``): it could not have acted as leader
    after that, and its successor was elected only after its session expired,
    later still. A file without that bound (written by an older version) is
    bounded by its own last write, which a leader renews every T/8.
    """
    try:
        previous = read(path)
        written_at = os.stat(path).st_mtime
    except (ValueError, KeyError, TypeError, OSError):
        return []
    if previous is None:
        return []
    terms = list(previous.history)
    if terms and terms[-1].ended_at is None:
        last = terms[-1]
        expires = previous.lease_expires_at
        ended = expires if expires is not None else written_at
        terms[-1] = Term(last.epoch, last.elected_at, max(ended, last.elected_at), "process ended")
    return terms
