"""The election participant of this container, in the process that won the lock."""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import asdict
from typing import Any

from kazoo.client import KazooClient
from kazoo.retry import KazooRetry

from .. import LeaderElection, Participant, Status, TermHistory, election_acl, wall_time_of
from ..cluster.term_log import ClusterTermLog, term_log_path
from ..config import Settings
from . import peers, snapshot
from .control import ControlServer
from .journal_desk import JournalDesk
from .paths import RuntimePaths
from .switchover_desk import OPERATION as SWITCHOVER
from .switchover_desk import SwitchoverDesk
from .termlog import TermLogWriter

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

    def __init__(self, settings: Settings, paths: RuntimePaths, client: KazooClient | None = None) -> None:
        self._settings = settings
        self._paths = paths
        self._history = TermHistory(snapshot.inherited_history(paths.snapshot))
        self._write_lock = threading.Lock()
        # Unix seconds when the last lease seen in a published status runs out:
        # the bound of a term this process leaves open if it is killed. Kept
        # while a suspended status carries no lease (snapshot.inherited_history).
        self._lease_expires_at: float | None = None
        self._pid = os.getpid()
        self._pid_start = snapshot.process_start(self._pid)
        # Ours: started after the election's listener is in place, stopped
        # and closed after the election has handed over (close()).
        self._client = client or make_client(settings)
        self._election = LeaderElection(
            self._client,
            settings.election_path,
            settings.instance_id,
            address=settings.advertised_address,
            acl=election_acl(settings.credentials),
            on_elected=self._elected,
            on_revoked=self._revoked,
            on_status=self._status_changed,
            observer=settings.election_role == "observer",
        )
        self._journal = JournalDesk(self._election, settings)
        self._switchover = SwitchoverDesk(self._election, self._known_instances)
        self._control = ControlServer(paths.control_socket, self._control_request)
        # The cluster term log (fenced writes, off the election thread) and the peer poller.
        self._term_log = ClusterTermLog(
            self._election.client,
            term_log_path(settings.election_path),
            acl=election_acl(settings.credentials),
        )
        self._term_writer = TermLogWriter(self._term_log, settings.instance_id, settings.advertised_address)
        self._peers = peers.PeerPoller(
            instance=settings.instance_id,
            address=settings.advertised_address,
            status=lambda: self._election.status,
            participants=self._connected_participants,
            terms=self._term_log.recent,
            publish=lambda report: peers.write(peers.report_path(paths.state_dir), report),
        )

    @property
    def election(self) -> LeaderElection:
        return self._election

    def start(self) -> None:
        if self._settings.credentials is None:
            log.warning("ZK_DIGEST_USER/ZK_DIGEST_PASSWORD not set: the election runs without ACLs")
        log.info("starting election participant", extra={"settings": self._settings.safe_summary()})
        self._write_snapshot()
        self._control.start()
        self._term_writer.start()
        self._election.start()
        self._client.start_async()  # the election waits (connecting) until it connects
        self._peers.start()

    def close(self, timeout: float = 5.0) -> None:
        """Hand over: finish the journal appends in flight from every worker
        (bounded), then delete our node, then close the session."""
        log.info("closing election participant")
        self._journal.drain()  # no commit cut off by the close; later appends get a 503
        # Ending the term queues its record in the term log (``_revoked``); it
        # is written after the handover, while the session still exists, so
        # the successor never waits for it (bounded: 1 s). The client stays
        # connected until _close_client.
        self._election.close(timeout, after_handover=self._flush_term_log)
        # The control socket after the handover: its shutdown waits for the
        # server's poll (up to 20 ms), which the successor need not wait for.
        self._control.close()
        # The peer poller only after the handover: joining its thread (mid-poll,
        # up to a second) must not hold the successor back.
        self._peers.close()
        self._term_writer.close()
        self._close_client()
        self._write_snapshot()

    def _close_client(self) -> None:
        """The session ends here (the election leaves the client to us): if the
        election could not delete our node, the server does it now."""
        try:
            self._client.stop()
            self._client.close()
        except Exception:
            log.exception("closing the ZooKeeper client failed")

    def _flush_term_log(self) -> None:
        if not self._term_writer.flush(1.0):
            log.warning("the term log's queued writes did not finish within 1 s")

    def _elected(self, epoch: int, at: float) -> None:
        self._history.elected(epoch, at)
        self._write_snapshot()
        self._term_writer.granted(self._election.fence(), at)  # queued, never blocks

    def _revoked(self, reason: str, at: float) -> None:
        if reason == "closed":
            # The close runs this just before deleting our member node: a grant
            # still queued (a close right after the election) is written now,
            # while the node fences it. Immediate when nothing is queued, as
            # almost always; bounded (1 s), and nothing waits on a closing worker.
            self._flush_term_log()
        terms = self._history.terms()
        epoch = terms[-1].epoch if terms and terms[-1].ended_at is None else None
        self._history.revoked(reason, at)
        self._write_snapshot()
        self._term_writer.ended(epoch, reason, at)  # clean ends only, queued

    def _write_snapshot(self) -> None:
        status: Status = self._election.status
        with self._write_lock:
            if status.lease_deadline is not None:
                self._lease_expires_at = wall_time_of(status.lease_deadline)
            snapshot.write(
                self._paths.snapshot,
                snapshot.SharedState(status, self._history.terms(), self._pid, self._pid_start, self._lease_expires_at),
            )

    def _status_changed(self, _status: Status) -> None:
        self._write_snapshot()
        self._peers.wake()  # a fresh peer view right after a change (fires only after start)

    def _connected_participants(self) -> list[Participant]:
        """The membership, for the peer poller; fails at once when disconnected."""
        client = self._election.client
        if not client.connected:
            raise ConnectionError(f"not connected to ZooKeeper ({client.state})")
        return self._election.participants()

    def _known_instances(self) -> set[str]:
        """Instances seen before: the peer poller's and the term log's."""
        known = self._peers.known_instances()
        try:
            known |= {t.instance for t in self._term_log.recent()}
        except Exception as exc:  # noqa: BLE001 - the poller's view still counts
            log.info("term log not readable for the switchover check: %s", exc)
        return known

    def _control_request(self, op: str, params: dict[str, Any]) -> Any:
        if op.startswith("journal."):
            return self._journal.handle(op, params)
        if op == "participants":
            return [asdict(p) for p in self._election.participants()]
        if op == "resign":
            self._term_writer.flush()  # our grant is written while our node still fences it
            # Wait T for the worker to take it up, then at most 2 T for the
            # delete: the caller's control timeout (4 T) outlasts both.
            return self._election.resign(timeout=self._election.status.session_timeout)
        if op == "observers":
            return [asdict(o) for o in self._election.observers()]
        if op == SWITCHOVER:
            return self._switchover.handle(params)
        if op == "liveness":
            return self._election.liveness().to_json()
        raise ValueError(f"unknown operation {op!r}")
