"""The journal's side of the participant process: control-socket operations
``journal.append`` and ``journal.read``, and the drain before a handover.

Every gunicorn worker of the container forwards journal requests here over
the control socket, because the fence is a node of this process's session.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from typing import Any

from .. import LeaderElection, election_acl
from ..config import Settings
from ..journal import AppendOutcome, AppendResult
from ..journal.store import Journal

log = logging.getLogger("zkleader.journal")

APPEND = "journal.append"
READ = "journal.read"
OPERATIONS = (APPEND, READ)


class JournalDesk:
    """Serves journal operations for one election participant.

    :meth:`drain` runs before the participant hands over: from then on it
    refuses new appends with ``not-leader`` (nothing written, so a balancer
    may resend them to the successor), and it waits for the ones in flight,
    so that closing the session never cuts a commit off into an unknown
    outcome. It does not wait for a quiet moment: a client that keeps a
    connection to this instance open and writes steadily would never give
    one, and would hold the handover back for the whole bound.
    """

    def __init__(self, election: LeaderElection, settings: Settings) -> None:
        self._election = election
        self._journal = Journal(
            election.client,
            settings.journal_path,
            election_acl(settings.credentials),
            instance=settings.instance_id,
            max_entries=settings.journal_max_entries,
            timeout=settings.session_timeout,
            clock=time.time,
        )
        self._guard = threading.Condition()
        self._in_flight = 0
        self._closing = False

    def handle(self, op: str, params: dict[str, Any]) -> Any:
        if op == APPEND:
            return self.append(str(params["message"]), params.get("key")).to_dict()
        if op == READ:
            entries = self._journal.read(int(params.get("after", 0)), int(params.get("limit", 100)))
            return [e.to_json() for e in entries]
        raise ValueError(f"unknown operation {op!r}")

    def append(self, message: str, key: str | None) -> AppendResult:
        with self._guard:
            if self._closing:
                return self._not_leader("this instance is stopping")
            self._in_flight += 1
        try:
            fence = self._election.fence()
            if fence is None:
                return self._not_leader("this instance does not lead")
            return self._journal.append(fence, message, key)
        finally:
            with self._guard:
                self._in_flight -= 1
                self._guard.notify_all()

    def drain(self, timeout: float = 2.0) -> None:
        """Refuse new appends, then wait (at most ``timeout``) for those in flight."""
        deadline = time.monotonic() + timeout
        with self._guard:
            self._closing = True
            while self._in_flight and time.monotonic() < deadline:
                self._guard.wait(deadline - time.monotonic())
            if self._in_flight:
                log.warning("handing over with %d journal appends still in flight", self._in_flight)

    def _not_leader(self, why: str) -> AppendResult:
        leader = self._election.status.leader
        result = AppendResult(AppendOutcome.NOT_LEADER, detail=f"{why}; nothing written")
        if leader is not None and leader.instance != self._election.identity.instance:
            result = replace(result, leader_instance=leader.instance, leader_address=leader.address)
        return result
