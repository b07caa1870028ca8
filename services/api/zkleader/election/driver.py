"""The worker side of one participant: runs tasks, applies decisions.

:class:`Driver` wires the parts (see :mod:`.core`) and runs on the election
worker thread: it asks the candidate (:mod:`.candidate`) or the observer
(:mod:`.observers`) what a check found and applies that decision through the
one transition (:mod:`.state`), consulting the switchover gate before
leading; the leader record listens to the transitions. Timers of the one
scheduler (:mod:`.worker`) retry a failed check, renew the lease, write the
leader record and re-offer a status the observer refused.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import KazooException
from kazoo.protocol.states import WatchedEvent
from kazoo.security import ACL

from .candidate import FOLLOW, LEAD, LOOK_AGAIN, LOST, WAIT, Candidate, Decision, session_of
from .compat import NegotiatedTimeout
from .connection import ConnectionListener
from .identity import Identity
from .leader_record import LeaderRecord
from .lease import Clock, Lease, LeaseRenewal
from .naming import new_participant_uid, parse_member
from .observers import Observer
from .state import ParticipantState, fire
from .status import ElectionState, Status
from .switchover_gate import SwitchoverGate
from .timings import ElectionTimings
from .worker import Backoff, Kind, Task, Timer, Worker

log = logging.getLogger("zkleader.election")


class Driver:
    """Owns the worker and every collaborator of one participant."""

    def __init__(
        self,
        client: KazooClient,
        path: str,
        identity: Identity,
        acl: list[ACL],
        timings: ElectionTimings,
        state: ParticipantState,
        timeout: NegotiatedTimeout,
        lease: Lease,
        *,
        track_leader: bool,
        observer: bool,
        clock: Clock,
    ) -> None:
        self._client = client
        self._path = path
        self._track_leader = track_leader
        self._observer = observer
        self._clock = clock
        self._uid = new_participant_uid()
        self._timeout = timeout
        self._state = state
        self.abandoned = False  # close() gave up waiting for the worker
        self.after_handover: Callable[[], None] | None = None
        self.worker = Worker(
            clock=clock,
            policy=Backoff(timings.initial_backoff, timings.max_backoff),
            handle=self._handle,
            on_timer=self._on_timer,
            on_error=self._on_error,
            after_turn=self._after_turn,
        )
        self._scheduler = self.worker.scheduler
        put = self.worker.put
        self.connection = ConnectionListener(client, state, timeout, put)
        self._candidate = Candidate(
            client, path, self._uid, identity, acl, timings, self._call, clock, lambda e: put(Kind.PREDECESSOR, e)
        )
        self._renewal = LeaseRenewal(lease, clock, client, path, self._call, lambda: timeout.seconds, timings)
        self._gate = SwitchoverGate(client, path, self._call, clock, lambda e: put(Kind.SWITCHOVER, e))
        self._record = LeaderRecord(
            client,
            path,
            identity,
            self._call,
            self._scheduler,
            tries=timings.record_tries,
            leading=lambda: state.state is ElectionState.LEADER,
            on_event=lambda e: put(Kind.LEADER_RECORD, e),
        )
        if track_leader:
            state.add_listener(self._record)
        self._observer_role = Observer(client, path, identity, acl, self._call, lambda e: put(Kind.MEMBERS, e))

    def leads_in(self, status: Status) -> bool:
        """Whether ``status`` leads now: connected, elected, within the lease."""
        connected = self._client.state == KazooState.CONNECTED and not self._state.disconnected
        return connected and status.is_leader_at(self._clock())

    def _call(self, pending: Any) -> Any:
        return self.worker.call(pending, self._timeout.seconds, self._client.handler.timeout_exception)

    def _handle(self, task: Task) -> bool:
        """Run one task; False when the worker should stop."""
        if task.kind is Kind.CLOSE:
            self._close()
            if task.reply is not None and task.reply.set_running_or_notify_cancel():
                task.reply.set_result(True)
            return False
        if self._state.state is ElectionState.STOPPED or self._state.closed:
            return True  # closed from another thread: only the CLOSE task is left to run
        if task.kind is Kind.CONNECTION:
            self._connection_changed(task.detail)
        elif task.kind is Kind.PREDECESSOR:
            self._state.count_notification()
            event: WatchedEvent = task.detail
            if event.path == self._candidate.child_path(self._candidate.watched):
                self._check()  # else a watch left on an old predecessor: nothing changed for us
        elif task.kind is Kind.LEADER_RECORD:
            self._refresh_leader_record()
        elif task.kind is Kind.SWITCHOVER:
            if self._state.state is ElectionState.LEADER:
                self._check()  # judges the designation (and re-arms its watch)
        elif task.kind is Kind.RESIGN:
            assert task.reply is not None
            if task.reply.set_running_or_notify_cancel():  # else withdrawn by a caller that gave up
                task.reply.set_result(self._resign())
        else:
            self._check()
        return True

    def _on_timer(self, timer: Timer) -> None:
        if timer is Timer.CHECK:
            self._check()
        elif timer is Timer.RENEW:
            self._renew()
        elif timer is Timer.RECORD:
            self._record.write()
        # Timer.PUBLISH: only wakes the worker; _after_turn offers the status again.

    def _on_error(self, exc: Exception) -> None:
        delay = self._scheduler.retry(Timer.CHECK)
        reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
        self._state.set_reason(reason)
        log.warning(
            "election check failed, retrying in %.1fs: %s", delay, reason, exc_info=not isinstance(exc, KazooException)
        )

    def _after_turn(self) -> None:
        if self._state.publish():
            self._scheduler.succeeded(Timer.PUBLISH)
        else:
            self._scheduler.retry(Timer.PUBLISH)

    # ------------------------------------------------- applying decisions

    def _connection_changed(self, state: KazooState) -> None:
        if state == KazooState.SUSPENDED:
            self._state.transition(
                ElectionState.SUSPENDED, "connection to ZooKeeper suspended", ended_because="connection suspended"
            )
            log.warning("connection suspended; not leader until the session is confirmed")
        elif state == KazooState.LOST:
            self._state.transition(
                ElectionState.CONNECTING,
                "session expired; re-enrolling",
                ended_because="session expired",
                node=None,
                node_stat=None,
            )
            self._candidate.watched = None
            log.warning("session lost; will re-enrol with a new node")
        else:
            self._check()

    def _check(self) -> None:
        """The leadership check: ask the candidate (or the observer), apply its decision."""
        if self._observer:
            self._observe()
            return
        decision = self._candidate.check(self._state.node, self._state.node_stat)
        if decision.node is not None and decision.node_stat is not None and decision.node != self._state.node:
            self._state.enrolled(decision.node, decision.node_stat)
        if decision.action == WAIT:
            return  # not connected; the connection listener queues a check when it is
        if decision.action == LOST:
            self._drop_node(decision.why)
            self.worker.put(Kind.CHECK, f"look again: {decision.why}")
            return
        if decision.action == LOOK_AGAIN:
            if self._state.state is ElectionState.LEADER:
                self._state.transition(ElectionState.FOLLOWER, None, ended_because="a lower member exists")
            self.worker.put(Kind.CHECK, decision.why)
            return
        if decision.action == LEAD:
            if not self._lead(decision):
                return
        elif decision.action == FOLLOW:
            if self._state.state is ElectionState.LEADER:
                self._state.transition(ElectionState.FOLLOWER, None, ended_because="a lower member exists")
            if decision.leader is None:
                self._state.transition(ElectionState.FOLLOWER, None)
            else:
                self._state.transition(ElectionState.FOLLOWER, None, leader=decision.leader)
            self._refresh_leader_record()
        self._scheduler.succeeded(Timer.CHECK)
        self._state.set_reason(None)

    def _lead(self, decision: Decision) -> bool:
        """Lowest and ours: consult the gate, start the lease, lead. False when we did not."""
        assert decision.node is not None and decision.epoch is not None
        if not self._gate.permits(decision.node, decision.members):
            self._step_aside("switchover")
            return False
        if not self._renewal.grant(decision.started):
            return False  # the connection dropped meanwhile; its listener queued a check
        self._scheduler.after(Timer.RENEW, self._renewal.period())
        self._candidate.watched = None
        self._state.transition(ElectionState.LEADER, None, epoch=decision.epoch)
        self._gate.led()
        return True

    def _observe(self) -> None:
        session = session_of(self._client)
        if session is None:
            return
        found, leader = self._observer_role.observe(session)
        if not found:
            self.worker.put(Kind.CHECK, "lowest member vanished")
            return
        self._state.transition(ElectionState.OBSERVER, None if leader else "no member in the election", leader=leader)
        self._scheduler.succeeded(Timer.CHECK)

    def _renew(self) -> None:
        """Leader only: a ``sync`` round trip through the ZooKeeper leader extends the lease."""
        session = session_of(self._client)
        if self._state.state is not ElectionState.LEADER or session is None:
            return
        renewed = self._renewal.renew(self._candidate.child_path(self._state.node), session)
        if renewed is None:
            self._check()
        elif renewed:
            self._scheduler.after(Timer.RENEW, self._renewal.period())

    def _refresh_leader_record(self) -> None:
        """Followers: read (and keep watching) the leader record."""
        if not self._track_leader or self._state.state is not ElectionState.FOLLOWER or not self._client.connected:
            return
        record = self._record.read()
        if record is not None:
            self._state.saw_leader(record)

    def _drop_node(self, why: str) -> None:
        """Our node is gone or not this session's: step down and forget it."""
        connected = self._client.connected and not self._state.disconnected
        state = ElectionState.FOLLOWER if connected else ElectionState.CONNECTING
        self._state.transition(state, why, ended_because=why, node=None, node_stat=None)
        self._candidate.watched = None

    def _resign(self) -> bool:
        if not self.leads_in(self._state.status):
            return False
        self._step_aside("resigned")
        return True

    def _step_aside(self, why: str) -> None:
        """Give up our place: end a term we hold, delete our node, re-enrol at the tail.

        The successor is notified by the delete. Re-enrolling is the next
        task; whether it succeeds (or is retried) does not change the hand-over."""
        self._state.transition(ElectionState.FOLLOWER, None, ended_because=why)
        self._candidate.delete(self._state.node)
        self._state.transition(ElectionState.FOLLOWER, None, node=None, node_stat=None)
        self._candidate.watched = None
        self.worker.put(Kind.CHECK, f"re-enrol after: {why}")

    # ---------------------------------------------------------------- close

    def _close(self) -> None:
        """Worker: end the term, hand over (delete our node), run after_handover."""
        self._state.transition(ElectionState.STOPPED, "closed", ended_because="closed")
        try:
            if self._client.connected:
                self._candidate.delete(self._state.node)
                self._observer_role.unregister()
                if self.abandoned:  # a create may have landed after close() swept
                    self._candidate.delete_strays(self._candidate.synced_members(), None)
            elif self._state.node is not None:
                # Not connected: queued by kazoo and sent if the same session
                # comes back (after an expiry the node is gone anyway).
                self._client.delete_async(self._candidate.child_path(self._state.node))
        except KazooException as exc:
            log.warning("could not delete member node on close: %s", exc)
        self._state.transition(ElectionState.STOPPED, "closed", node=None, node_stat=None)
        after, self.after_handover = self.after_handover, None
        fire("after_handover", after)
        self.detach()

    def abandon(self, timeout: float) -> None:
        """close() on its own thread: the worker is blocked; delete our nodes
        (ours by uid, and the observer registration), all within ``timeout``."""
        self.abandoned = True
        deadline = self._clock() + timeout

        def left() -> float:
            return max(0.0, deadline - self._clock())

        known = [] if self._state.node is None else [self._candidate.child_path(self._state.node)]
        registration = self._observer_role.registration
        known += [] if registration is None else [registration]
        pending = [self._client.delete_async(p) for p in known]  # the hand-over first
        with contextlib.suppress(Exception):
            names = self._client.get_children_async(self._path).get(timeout=left())
            strays = [n for n in names if (m := parse_member(n)) and m.owner_uid == self._uid]
            pending += [self._client.delete_async(p) for p in map(self._candidate.child_path, strays) if p not in known]
        for reply in pending:
            with contextlib.suppress(Exception):  # NoNode, a timeout, a lost connection: nothing more to do
                reply.get(timeout=left())

    def detach(self) -> None:
        """Stop listening to the caller's client; the status says STOPPED from now on."""
        if self._state.closed:
            return
        self._state.close()
        self.connection.detach()
