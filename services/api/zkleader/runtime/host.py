"""The election participant of this container, in the process that won the lock."""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import asdict
from typing import Any

from kazoo.client import KazooClient
from kazoo.retry import KazooRetry

from ..config import Settings
from ..election import Identity, LeaderElection, Status, TermHistory, election_acl
from . import snapshot
from .control import ControlServer
from .journal_desk import JournalDesk
from .paths import RuntimePaths

log = logging.getLogger("zkleader.runtime")


def make_client(settings: Settings) -> KazooClient:
    """A kazoo client that keeps reconnecting forever with bounded back-off."""
    return KazooClient(
        hosts=settings.zk_hosts,
        timeout=settings.session_timeout,
        auth_data=settings.credentials.auth_data() if settings.credentials else None,
        connection_retry=KazooRetry(max_tries=-1, delay=0.1, backoff=2, max_delay=2.0),
        command_retry=KazooRetry(max_tries=3, delay=0.1, backoff=2, max_delay=1.0),
    )


class ElectionHost:
    """Runs the election, records terms and publishes the shared snapshot."""

    def __init__(self, settings: Settings, paths: RuntimePaths) -> None:
        self._settings = settings
        self._paths = paths
        self._history = TermHistory(snapshot.inherited_history(paths.snapshot))
        self._write_lock = threading.Lock()
        self._pid = os.getpid()
        self._pid_start = snapshot.process_start(self._pid)
        self._election = LeaderElection(
            make_client(settings),
            settings.election_path,
            Identity(settings.instance_id, settings.advertised_address, time.time()),
            acl=election_acl(settings.credentials),
            on_elected=self._elected,
            on_revoked=self._revoked,
            on_status=lambda _status: self._write_snapshot(),
        )
        self._journal = JournalDesk(self._election, settings)  # issue 11: the fenced journal
        self._control = ControlServer(paths.control_socket, self._control_request)

    @property
    def election(self) -> LeaderElection:
        return self._election

    def start(self) -> None:
        if self._settings.credentials is None:
            log.warning("ZK_DIGEST_USER/ZK_DIGEST_PASSWORD not set: the election runs without ACLs")
        log.info("starting election participant", extra={"settings": self._settings.safe_summary()})
        self._write_snapshot()
        self._control.start()
        self._election.start()

    def close(self, timeout: float = 5.0) -> None:
        """Hand over: finish the journal appends in flight from every worker
        (bounded), then delete our node and close the session."""
        log.info("closing election participant")
        self._journal.drain()  # issue 11: no commit cut off by the close
        self._control.close()
        self._election.close(timeout)
        self._write_snapshot()

    def _elected(self, epoch: int, at: float) -> None:
        self._history.elected(epoch, at)
        self._write_snapshot()

    def _revoked(self, reason: str, at: float) -> None:
        self._history.revoked(reason, at)
        self._write_snapshot()

    def _write_snapshot(self) -> None:
        status: Status = self._election.status
        with self._write_lock:
            snapshot.write(
                self._paths.snapshot,
                snapshot.SharedState(status, self._history.terms(), self._pid, self._pid_start),
            )

    def _control_request(self, op: str, params: dict[str, Any]) -> Any:
        if op.startswith("journal."):  # issue 11
            return self._journal.handle(op, params)
        if op == "participants":
            return [asdict(p) for p in self._election.participants()]
        if op == "resign":
            return self._election.resign()
        raise ValueError(f"unknown operation {op!r}")
