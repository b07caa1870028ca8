"""The election core: one participant, wired from small parts.

* :mod:`.state` owns what the participant knows; its ``transition`` is the
  only place the election state changes, and it builds the :class:`Status`.
* :mod:`.candidate` is the algorithm (enrol, synced listing, own-session
  check, follow); it returns a decision, which :meth:`LeaderElection._check`
  applies here.
* :mod:`.worker` is the thread, the task queue and the one scheduler.
* :mod:`.connection` is the connection listener (kazoo's event thread).
* :mod:`.lease` is the zombie guard and its renewal; :mod:`.compat` learns
  the negotiated session timeout it is sized by.
* Collaborators plug in at two points: the switchover gate
  (:mod:`.switchover_gate`) is consulted before leading, the leader record
  (:mod:`.leader_record`) listens to every gain and loss of leadership.
* :mod:`.observers` is the observer role (never enrols, so never leads).

The client is the caller's: it may be started before or after :meth:`start`
(the election waits, CONNECTING, until it connects), and the election never
starts, stops or closes it. :meth:`close` ends the term, deletes our member
node (and observer registration) and removes our listener; the caller's
session lives on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import replace

from kazoo.client import KazooClient
from kazoo.security import ACL, OPEN_ACL_UNSAFE

from .compat import NegotiatedTimeout
from .driver import Driver
from .fence import Fence
from .identity import Identity
from .lease import Clock, Lease, now
from .naming import election_path
from .observers import registered_observers
from .participants import read_participants
from .state import ElectedCallback, ParticipantState, RevokedCallback, StatusCallback
from .status import ElectionState, Liveness, Participant, Status
from .timings import ElectionTimings
from .worker import Kind

log = logging.getLogger("zkleader.election")


class LeaderElection:
    """Takes part in the election under ``path`` with the given kazoo client.

    The client stays the caller's (see the module docstring): start it before
    or after :meth:`start`, stop and close it after :meth:`close`. Several
    elections (and other kazoo recipes) may share one client.

    ``track_leader`` (default on) publishes the leader record and has every
    follower watch it, so all participants know the current leader and epoch.
    That costs each follower one notification and one read per leader change,
    on top of the single predecessor notification that drives the election;
    turn it off for large elections whose followers need not know the leader
    (followers then learn it only when their own predecessor changes).

    Callbacks (the contract, as kazoo's ``add_listener`` states its own):

    * ``on_elected(epoch, elected_at)`` and ``on_revoked(reason, ended_at)``
      run on the election worker thread, once per change of leadership, in
      order. They delay every election check while they run: keep them short,
      never block on ZooKeeper or on the election itself (``resign``/``close``
      would deadlock).
    * ``on_status(status)`` runs after every change of :attr:`status`, on the
      worker thread, or on kazoo's event thread when the connection is
      suspended or lost (so that observers learn it even while the worker is
      blocked in a ZooKeeper call). It must not block. If it raises, the same
      status is offered again after a back-off until it succeeds.

    An exception in a callback is logged and otherwise ignored: it never counts
    as a ZooKeeper failure and never stops the election.

    ``observer`` (default off): never enrol, so never lead; register under
    :func:`~.observers.observers_path` and know the leader by watching the members.
    """

    def __init__(
        self,
        client: KazooClient,
        path: str,
        identity: Identity,
        *,
        acl: Sequence[ACL] | None = None,
        timings: ElectionTimings | None = None,
        on_elected: ElectedCallback | None = None,
        on_revoked: RevokedCallback | None = None,
        on_status: StatusCallback | None = None,
        track_leader: bool = True,
        observer: bool = False,
        clock: Clock = now,
    ) -> None:
        self._client = client
        self._path = election_path(path)
        self._identity = identity
        self._acl = list(acl) if acl else list(OPEN_ACL_UNSAFE)
        self._timings = timings = timings or ElectionTimings()
        self._observer = observer
        self._started = False
        self._timeout = NegotiatedTimeout(client)
        lease = Lease()
        self._state = ParticipantState(
            identity,
            observer=observer,
            lease=lease,
            clock=clock,
            session_timeout=lambda: self._timeout.seconds,
            on_elected=on_elected,
            on_revoked=on_revoked,
            on_status=on_status,
        )
        self._driver = Driver(
            client,
            path,
            identity,
            self._acl,
            timings,
            self._state,
            self._timeout,
            lease,
            track_leader=track_leader,
            observer=observer,
            clock=clock,
        )
        self._worker = self._driver.worker

    # ------------------------------------------------------------------ API

    @property
    def path(self) -> str:
        return self._path

    @property
    def identity(self) -> Identity:
        return self._identity

    @property
    def acl(self) -> list[ACL]:
        """The ACL of every node of this election (members, designation, observers)."""
        return list(self._acl)

    @property
    def is_observer(self) -> bool:
        return self._observer

    @property
    def client(self) -> KazooClient:
        """The kazoo client whose session holds our member node (for fenced writes)."""
        return self._client

    @property
    def status(self) -> Status:
        """The latest consistent snapshot (cheap, never touches ZooKeeper)."""
        return self._state.status

    @property
    def is_leader(self) -> bool:
        """True only while elected, connected and within the lease."""
        return self._driver.leads_in(self._state.status)

    def fence(self) -> Fence | None:
        """Our member node and epoch while we lead now (lease included), else None.

        Both come from one published snapshot, so they always belong to the
        same grant: the worker may change them at any moment, and reading
        them one by one could pair our node with the previous leader's epoch."""
        status = self._state.status
        if status.node is None or status.epoch is None or not self._driver.leads_in(status):
            return None
        return Fence(f"{self._path}/{status.node}", status.epoch)

    def start(self) -> None:
        """Join the election; returns at once even if ZooKeeper is unreachable
        or the client is not started yet (it waits, CONNECTING, until it is)."""
        if self._started:
            raise RuntimeError("election already started")
        self._started = True
        if self._acl == list(OPEN_ACL_UNSAFE):
            log.warning("no ACL given: any client that reaches ZooKeeper may create or delete election nodes")
        self._worker.start()
        self._driver.connection.attach()
        self._worker.put(Kind.CHECK, "start")

    def resign(self, timeout: float = 10.0) -> bool:
        """Hand leadership to the next member and re-enrol at the tail.

        Returns False when this participant was not leading, True once our
        node is deleted (leadership handed over; re-enrolling at the tail is
        the worker's next task). Raises ``TimeoutError`` when the worker did
        not take the request up within ``timeout``: the request is then
        withdrawn and will not happen later. Once taken up, it answers within
        2 T more.
        """
        if not self._worker.is_alive():
            raise RuntimeError("the election is not running")
        reply = self._worker.ask(Kind.RESIGN)
        try:
            return reply.result(timeout)
        except TimeoutError:
            if reply.cancel():
                raise TimeoutError(
                    f"resign: the election worker was busy for {timeout:.1f}s; request withdrawn, nothing done"
                ) from None
        # Already running: a resign is one delete (bounded by T) and the
        # revocation callback, so its outcome comes well within 2 T.
        try:
            return reply.result(self._timeout.seconds * 2)
        except TimeoutError:
            raise TimeoutError("resign still running; its outcome is unknown") from None

    def close(self, timeout: float = 10.0, *, after_handover: Callable[[], None] | None = None) -> None:
        """Leave: end the term, delete our node (and observer registration),
        remove our listener. The client stays connected: it is the caller's.

        Deleting the node notifies the successor at once, so it leads within a
        round trip instead of a session timeout. If the worker cannot do it
        within ``timeout`` (blocked in a ZooKeeper call), our node is deleted
        from this thread instead (bounded by ``timeout``); close never raises
        for a timeout.

        ``after_handover`` runs on the election worker between the node's
        deletion and the end of the close: for last writes that need the
        session but must not hold the successor back (the term log's end of
        term). It should be bounded; an exception is logged.
        """
        self._driver.after_handover = after_handover
        if self._started and self._worker.is_alive():
            reply: Future[bool] = self._worker.ask(Kind.CLOSE)
            try:
                reply.result(timeout)
            except TimeoutError:
                log.warning("election worker busy for %.1fs; deleting our node from this thread", timeout)
                self._driver.abandon(timeout)
            except Exception:
                log.exception("closing the election failed; deleting our node from this thread")
                self._driver.abandon(timeout)
        self._driver.detach()
        self._state.publish(replace(self.status, state=ElectionState.STOPPED, lease_deadline=None, reason="closed"))
        self._worker.join(timeout)

    def liveness(self) -> Liveness:
        """Whether the worker makes progress: False once it went longer than
        ``liveness_fraction`` of T within one task or timer without finishing
        it or a ZooKeeper call, or when the worker thread died."""
        limit = self._timeout.seconds * self._timings.liveness_fraction
        if not self._started or self._state.closed:
            return Liveness(True, 0.0, limit, "not running")
        if not self._worker.is_alive():
            return Liveness(False, 0.0, limit, "the election worker thread has ended")
        stalled = self._worker.stalled_for()
        if stalled > limit:
            return Liveness(False, stalled, limit, f"the election worker made no progress for {stalled:.1f}s")
        return Liveness(True, stalled, limit)

    def participants(self) -> list[Participant]:
        """All members in election order, read live from ZooKeeper."""
        return read_participants(self._client, self._path, self._timeout.seconds)

    def observers(self) -> list[Identity]:
        """The registered observers, read live from ZooKeeper."""
        return registered_observers(self._client, self._path, self._timeout.seconds)


ElectionCore = LeaderElection
"""The same class, under the name the public facade (``zkleader.LeaderElection``) wraps."""
