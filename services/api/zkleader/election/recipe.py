"""The leader election recipe: one participant, one worker thread.

Each participant owns an ephemeral sequential member node under the election
path; the lowest (oldest, wrap-aware) member leads, and every other member
watches only its predecessor. What this adds to the textbook recipe:

* **Serialized checks.** kazoo watch and connection callbacks put a task on a
  ``queue.Queue``; one worker thread owns all election state and makes every
  ZooKeeper call of a check. The one exception is deliberate: on SUSPENDED or
  LOST the connection listener also cuts the lease and publishes the suspended
  status itself (no ZooKeeper call, no waiting on the worker), so leadership
  ends everywhere at once even while the worker is blocked in a call.
* **Create-retry protection.** Node names carry the participant's uid; after a
  ``create`` whose reply was lost the participant adopts its node instead of
  leaving an orphan behind (kazoo ``Lock``, Curator protected mode). Every
  listing that looks for it follows a ``sync`` (a server we reconnect to may
  not have applied the create yet), the session is read per attempt, and any
  other node carrying our uid is deleted: nobody could lead on it.
* **No session, no session id.** ``client_id`` read while the connection drops
  is ``None``; that means "not connected", never session 0.
* **Own-session check.** Before leading, the lowest node's ``ephemeralOwner``
  must be this session (CURATOR-696).
* **Connection states.** SUSPENDED ends leadership at once (Curator's default,
  avoiding the CURATOR-460 overlap); the same session coming back re-checks
  with the same node; LOST (expiry) re-enrols with a fresh node, forever, with
  bounded back-off.
* **Zombie guard.** ``is_leader`` also needs an unexpired :class:`Lease`,
  renewed by the leader with a ``sync`` round trip and shorter than the
  negotiated session timeout, so a frozen leader wakes up as not-leader.
* **Epoch.** A grant's fencing token is the ``czxid`` of the leader's node:
  zxids are totally ordered across the ensemble, so it strictly increases with
  every new grant. The leader also publishes ``{instance, address, epoch}`` as
  the data of the election path (a fenced compare-and-set), which followers
  watch so that they know the leader without watching the children list.
* **Switchover.** The lowest member judges the switchover designation
  (:mod:`.switchover`) before it leads, and the leader watches it: a member
  other than the designated candidate steps aside (deletes its node and
  re-enrols at the tail) instead of leading, so only the candidate can lead
  next, wherever it stands in the queue.
* **Observers.** With ``observer=True`` the participant never enrols: it
  registers under ``<path>-observers`` and watches the members to know the
  leader, so it can never lead.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import (
    BadVersionError,
    ConnectionLoss,
    KazooException,
    NodeExistsError,
    NoNodeError,
    OperationTimeoutError,
)
from kazoo.protocol.states import WatchedEvent, ZnodeStat
from kazoo.retry import KazooRetry
from kazoo.security import ACL, OPEN_ACL_UNSAFE

from . import leader_record
from .compat import track_negotiated_timeout
from .fence import Fence
from .identity import Identity
from .lease import Clock, Lease, now, wall_time_of
from .naming import MemberName, election_order, member_prefix, new_participant_uid
from .observers import observers_path, registered_observers
from .status import ElectionState, LeaderInfo, Liveness, Participant, Status
from .switchover import Designation, FirstSeen, Verdict, designation_path, judge

log = logging.getLogger("zkleader.election")

ElectedCallback = Callable[[int, float], None]
"""``(epoch, elected_at_unix_seconds)``"""
RevokedCallback = Callable[[str, float], None]
"""``(reason, ended_at_unix_seconds)``"""
StatusCallback = Callable[[Status], None]


class _Kind(enum.Enum):
    CHECK = "check"
    CONNECTION = "connection"
    PREDECESSOR = "predecessor"
    LEADER_RECORD = "leader-record"
    SWITCHOVER = "switchover"
    MEMBERS = "members"
    RESIGN = "resign"
    CLOSE = "close"


@dataclass(frozen=True)
class _Task:
    kind: _Kind
    detail: Any = None
    reply: Future[bool] | None = None


@dataclass(frozen=True)
class ElectionTimings:
    """Tunables of one participant; every duration is a fraction of the negotiated session timeout T.

    Validated once, here. Defaults suit T from 1 s to 60 s.

    ``lease_fraction`` (default 0.5): how long after the start of a confirmed
    round trip the participant may still act as leader. Must be below 1 so
    that the lease ends before the server can expire the session and elect a
    successor. Larger: fewer false step-downs on a slow network; smaller: a
    frozen leader stops believing sooner, at the cost of more renewals.

    ``renew_fraction`` (default 0.125): how often the leader renews the lease
    with a ``sync`` round trip. Must be below ``lease_fraction``; the gap is
    how many renewals may fail before leadership lapses (4 by default).

    ``initial_backoff`` (default 0.1 s) and ``max_backoff`` (default 5 s):
    a failed check, or a failed write of the leader record, retries after
    ``initial_backoff`` doubling up to ``max_backoff``. Lower: faster
    recovery, more load on a struggling ensemble.

    ``enrol_tries`` (default 5): attempts of one find-or-create of our member
    node (kazoo retry, connection loss only) before the check fails and backs
    off as above. Each attempt first syncs and looks for our node, so retrying
    never creates a second one.

    ``record_tries`` (default 5): compare-and-set attempts of the leader
    record in one round before backing off; the record is retried until it
    holds for as long as we lead.

    ``liveness_fraction`` (default 1.0): how long the worker may go without
    progress (finishing a task, a timer, or one ZooKeeper call, answered or
    timed out) before :meth:`LeaderElection.liveness` reports it wedged. Every
    call is bounded by T, so a healthy worker never exceeds T by more than a
    few milliseconds; probes with retries (Docker's ``retries: 3``) absorb
    that. Larger: slower detection of a wedged worker; smaller than 1: a
    worker waiting on an unresponsive ensemble would count as wedged.
    """

    lease_fraction: float = 0.5
    renew_fraction: float = 0.125
    initial_backoff: float = 0.1
    max_backoff: float = 5.0
    enrol_tries: int = 5
    record_tries: int = 5
    liveness_fraction: float = 1.0

    def __post_init__(self) -> None:
        if not 0 < self.lease_fraction < 1:
            raise ValueError("lease_fraction must be in (0, 1): the lease must end before the session can")
        if not 0 < self.renew_fraction < self.lease_fraction:
            raise ValueError("renew_fraction must be positive and below lease_fraction")
        if not 0 < self.initial_backoff <= self.max_backoff:
            raise ValueError("initial_backoff must be positive and at most max_backoff")
        if self.enrol_tries < 1 or self.record_tries < 1:
            raise ValueError("enrol_tries and record_tries must be at least 1")
        if self.liveness_fraction <= 0:
            raise ValueError("liveness_fraction must be positive")


class LeaderElection:
    """Takes part in the election under ``path`` with the given kazoo client.

    The election owns the client from :meth:`start` to :meth:`close`: it adds
    a connection listener, starts the client and stops it on close. The client
    must not be started yet (see :mod:`.compat`).

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
    :func:`observers_path` and know the leader by watching the members.
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
        if not path.startswith("/") or path == "/" or path.endswith("/"):
            raise ValueError(f"election path must be an absolute znode path, not {path!r}")
        self._client = client
        self._path = path
        self._identity = identity
        self._acl = list(acl) if acl else list(OPEN_ACL_UNSAFE)
        self._timings = timings or ElectionTimings()
        self._on_elected = on_elected
        self._on_revoked = on_revoked
        self._on_status = on_status
        self._track_leader = track_leader
        self._observer = observer
        self._clock = clock
        self._uid = new_participant_uid()
        self._tasks: queue.Queue[_Task] = queue.Queue()
        self._lease = Lease()
        self._worker = threading.Thread(target=self._run, name="election-worker", daemon=True)
        self._started = False
        self._session_timeout: float = client._session_timeout / 1000.0  # requested; replaced once negotiated
        track_negotiated_timeout(client, self._negotiated)
        # Shared with kazoo's event thread (set there, read by anyone).
        self._disconnected = False
        self._publish_lock = threading.RLock()
        self._published = True  # the observer has seen self._status
        self._session_lock = threading.Lock()
        self._session_closed = False
        self._after_handover: Callable[[], None] | None = None
        self._busy_since: float | None = None
        # Owned by the worker thread from here on.
        self._state = ElectionState.CONNECTING
        self._node: str | None = None
        self._node_stat: ZnodeStat | None = None  # from our create (or adoption): owner, czxid
        self._epoch: int | None = None
        self._leader: LeaderInfo | None = None
        self._watched: str | None = None
        self._reason: str | None = "starting"
        self._transitions = 0
        self._notifications = 0
        self._last_election_at: float | None = None
        self._retry_at: float | None = None
        self._backoff = 0.0
        self._next_renewal: float | None = None
        self._record_pending: int | None = None  # epoch whose leader record is not yet written
        self._record_retry_at: float | None = None
        self._record_backoff = 0.0
        self._publish_retry_at: float | None = None
        self._publish_backoff = 0.0
        self._designation_seen = FirstSeen()
        self._pending_designation: int | None = None  # version of a designation naming us
        self._registered: tuple[str, int] | None = None  # observers: (registration path, session)
        self._status = self._snapshot()

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
        return self._status

    @property
    def is_leader(self) -> bool:
        """True only while elected, connected and within the lease."""
        return self._leads_in(self._status)

    def fence(self) -> Fence | None:
        """Our member node and epoch while we lead now (lease included), else None.

        Both come from one published snapshot, so they always belong to the
        same grant: the worker may change them at any moment, and reading
        them one by one could pair our node with the previous leader's epoch."""
        status = self._status
        if status.node is None or status.epoch is None or not self._leads_in(status):
            return None
        return Fence(f"{self._path}/{status.node}", status.epoch)

    def _leads_in(self, status: Status) -> bool:
        return (
            self._client.state == KazooState.CONNECTED and not self._disconnected and status.is_leader_at(self._clock())
        )

    def start(self) -> None:
        """Join the election; returns at once even if ZooKeeper is unreachable."""
        if self._started:
            raise RuntimeError("election already started")
        self._started = True
        if self._acl == list(OPEN_ACL_UNSAFE):
            log.warning("no ACL given: any client that reaches ZooKeeper may create or delete election nodes")
        self._client.add_listener(self._on_connection_state)
        self._worker.start()
        self._client.start_async()
        self._tasks.put(_Task(_Kind.CHECK, "start"))

    def resign(self, timeout: float = 10.0) -> bool:
        """Hand leadership to the next member and re-enrol at the tail.

        Returns False when this participant was not leading, True once our
        node is deleted (leadership handed over; re-enrolling at the tail is
        the worker's next task). Raises ``TimeoutError`` when the worker did
        not take the request up within ``timeout``: the request is then
        withdrawn and will not happen later. Once taken up, it answers within
        2 T more.
        """
        return self._ask(_Kind.RESIGN, timeout)

    def close(self, timeout: float = 10.0, *, after_handover: Callable[[], None] | None = None) -> None:
        """Leave: end the term, delete the node, close the session.

        Deleting the node notifies the successor at once, so it leads within a
        round trip instead of a session timeout. If the worker cannot do it
        within ``timeout`` (blocked in a ZooKeeper call), the session is closed
        from this thread instead, which deletes the node just as fast; close
        never raises for a timeout.

        ``after_handover`` runs on the election worker between the node's
        deletion and the session's close: for last writes that need the session
        but must not hold the successor back (the term log's end of term). It
        should be bounded; an exception is logged.
        """
        self._after_handover = after_handover
        if not self._started:
            self._close_session()
            return
        if self._worker.is_alive():
            reply: Future[bool] = Future()
            self._tasks.put(_Task(_Kind.CLOSE, reply=reply))
            try:
                reply.result(timeout)
            except TimeoutError:
                log.warning("election worker busy for %.1fs; closing the session directly", timeout)
            except Exception:
                log.exception("closing the election failed; closing the session directly")
        self._close_session()
        self._publish(replace(self._status, state=ElectionState.STOPPED, lease_deadline=None, reason="closed"))
        self._worker.join(timeout)

    def liveness(self) -> Liveness:
        """Whether the worker makes progress: False once it went longer than
        ``liveness_fraction`` of T within one task or timer without finishing
        it or a ZooKeeper call, or when the worker thread died."""
        limit = self._session_timeout * self._timings.liveness_fraction
        if not self._started or self._session_closed:
            return Liveness(True, 0.0, limit, "not running")
        if not self._worker.is_alive():
            return Liveness(False, 0.0, limit, "the election worker thread has ended")
        busy = self._busy_since
        stalled = 0.0 if busy is None else max(0.0, self._clock() - busy)
        if stalled > limit:
            return Liveness(False, stalled, limit, f"the election worker made no progress for {stalled:.1f}s")
        return Liveness(True, stalled, limit)

    def participants(self) -> list[Participant]:
        """All members in election order, read live from ZooKeeper."""
        names = self._client.get_children(self._path)
        members = election_order(names)
        pending = [(m, self._client.get_async(f"{self._path}/{m.name}")) for m in members]
        result: list[Participant] = []
        for member, pending_get in pending:
            try:
                data, _ = pending_get.get(timeout=self._session_timeout)
            except NoNodeError:
                continue
            who = Identity.from_bytes(data)
            result.append(
                Participant(
                    instance=who.instance if who else None,
                    address=who.address if who else None,
                    sequence=member.sequence,
                    node=member.name,
                    is_leader=not result,
                )
            )
        return result

    def observers(self) -> list[Identity]:
        """The registered observers, read live from ZooKeeper."""
        return registered_observers(self._client, self._path, self._session_timeout)

    # ----------------------------------------- callbacks from kazoo's threads

    def _on_connection_state(self, state: KazooState) -> None:
        """kazoo's event thread: must not block and never calls ZooKeeper.

        A suspended or lost connection ends leadership here and now: the lease
        goes (so no round trip begun before can renew it) and observers are
        told at once, even while the worker is blocked in a call. The worker
        then does the rest (callbacks, re-enrolment) in its turn.
        """
        if state == KazooState.CONNECTED:
            self._disconnected = False
        else:
            self._disconnected = True
            self._lease.cut(self._clock())
            with self._publish_lock:
                current = self._status
                if current.state in (ElectionState.LEADER, ElectionState.FOLLOWER, ElectionState.OBSERVER):
                    self._publish(replace(current, state=ElectionState.SUSPENDED, lease_deadline=None))
        self._tasks.put(_Task(_Kind.CONNECTION, state))

    def _on_predecessor_event(self, event: WatchedEvent) -> None:
        self._tasks.put(_Task(_Kind.PREDECESSOR, event))

    def _on_leader_record_event(self, event: WatchedEvent) -> None:
        self._tasks.put(_Task(_Kind.LEADER_RECORD, event))

    def _on_switchover_event(self, event: WatchedEvent) -> None:
        self._tasks.put(_Task(_Kind.SWITCHOVER, event))

    def _on_members_event(self, event: WatchedEvent) -> None:
        self._tasks.put(_Task(_Kind.MEMBERS, event))

    def _negotiated(self, session_timeout: float) -> None:
        """kazoo's connection thread, after each connect."""
        if abs(session_timeout - self._session_timeout) > 0.001:
            log.info("session timeout negotiated", extra={"session_timeout": session_timeout})
        self._session_timeout = session_timeout

    def _ask(self, kind: _Kind, timeout: float) -> bool:
        if not self._worker.is_alive():
            raise RuntimeError("the election is not running")
        reply: Future[bool] = Future()
        self._tasks.put(_Task(kind, reply=reply))
        try:
            return reply.result(timeout)
        except TimeoutError:
            if reply.cancel():
                raise TimeoutError(
                    f"{kind.value}: the election worker was busy for {timeout:.1f}s; request withdrawn, nothing done"
                ) from None
        # Already running: a resign is one delete (bounded by T) and the
        # revocation callback, so its outcome comes well within 2 T.
        try:
            return reply.result(self._session_timeout * 2)
        except TimeoutError:
            raise TimeoutError(f"{kind.value} still running; its outcome is unknown") from None

    # ----------------------------------------------------------- the worker

    def _run(self) -> None:
        while True:
            try:
                task = self._tasks.get(timeout=self._idle_timeout())
            except queue.Empty:
                task = None
            self._busy_since = self._clock()
            try:
                if task is not None and not self._handle(task):
                    return
                self._on_timer()  # whatever is due, even while tasks keep coming
            except Exception as exc:  # noqa: BLE001 - the worker must survive anything
                self._schedule_retry(exc)
                if task is not None and task.reply is not None and not task.reply.done():
                    task.reply.set_exception(exc)
            finally:
                self._publish()
                self._busy_since = None

    def _handle(self, task: _Task) -> bool:
        """Run one task; False when the worker should stop."""
        if task.kind is _Kind.CLOSE:
            self._close()
            if task.reply is not None and task.reply.set_running_or_notify_cancel():
                task.reply.set_result(True)
            return False
        if self._state is ElectionState.STOPPED:
            return True
        if task.kind is _Kind.CONNECTION:
            self._connection_changed(task.detail)
        elif task.kind is _Kind.PREDECESSOR:
            self._notifications += 1
            event: WatchedEvent = task.detail
            if event.path == self._child_path(self._watched):
                self._check()  # else a watch left on an old predecessor: nothing changed for us
        elif task.kind is _Kind.LEADER_RECORD:
            self._refresh_leader_record()
        elif task.kind is _Kind.SWITCHOVER:
            if self._state is ElectionState.LEADER:
                self._check()  # judges the designation (and re-arms its watch)
        elif task.kind is _Kind.RESIGN:
            assert task.reply is not None
            if task.reply.set_running_or_notify_cancel():  # else withdrawn by a caller that gave up
                task.reply.set_result(self._resign())
        else:
            self._check()
        return True

    def _idle_timeout(self) -> float | None:
        deadlines = [
            d
            for d in (self._retry_at, self._next_renewal, self._record_retry_at, self._publish_retry_at)
            if d is not None
        ]
        if not deadlines:
            return None
        return max(0.0, min(deadlines) - self._clock())

    def _on_timer(self) -> None:
        now = self._clock()
        if self._publish_retry_at is not None and now >= self._publish_retry_at:
            self._publish_retry_at = None  # _run publishes after every turn
        if self._retry_at is not None and now >= self._retry_at:
            self._retry_at = None
            self._check()
        elif self._next_renewal is not None and now >= self._next_renewal:
            self._renew_lease()
        if self._record_retry_at is not None and now >= self._record_retry_at:
            self._record_retry_at = None
            self._write_leader_record()

    def _schedule_retry(self, exc: Exception) -> None:
        self._backoff = self._next_backoff(self._backoff)
        self._retry_at = self._clock() + self._backoff
        self._reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
        log.warning(
            "election check failed, retrying in %.1fs: %s",
            self._backoff,
            self._reason,
            exc_info=not isinstance(exc, KazooException),
        )

    def _next_backoff(self, previous: float) -> float:
        return min(max(self._timings.initial_backoff, previous * 2), self._timings.max_backoff)

    # ------------------------------------------------------ state handling

    def _set_state(
        self,
        state: ElectionState,
        reason: str | None,
        *,
        ended_because: str | None = None,
        epoch: int | None = None,
    ) -> None:
        """The one place the election state changes (Curator's ``setLeadership``).

        Leaving LEADER ends the lease, the renewals and the pending leader
        record, counts a transition, publishes, then tells ``on_revoked``
        (``ended_because``). Entering LEADER (or a new ``epoch`` while
        leading) records the grant, counts, publishes, then tells
        ``on_elected``. Callbacks fire only on such a change. STOPPED is final.
        """
        old = self._state
        if old is ElectionState.STOPPED:
            return
        self._reason = reason
        if old is ElectionState.LEADER and (state is not ElectionState.LEADER or epoch != self._epoch):
            ended = self._lease.revoke(self._clock())
            self._next_renewal = None
            self._record_pending = None
            self._record_retry_at = None
            self._leader = None
            self._transitions += 1
            self._state = state if state is not ElectionState.LEADER else ElectionState.FOLLOWER
            # A leader can only have acted until its lease ran out.
            ended_at = wall_time_of(ended, self._clock) if ended is not None else time.time()
            why = ended_because or reason or state.value
            deliberate = why in ("closed", "resigned", "switchover")
            log.log(
                logging.INFO if deliberate else logging.WARNING,
                "leadership ended",
                extra={"epoch": self._epoch, "reason": why},
            )
            self._publish()
            self._fire("on_revoked", self._on_revoked, why, ended_at)
        if state is ElectionState.LEADER and self._state is not ElectionState.LEADER:
            assert epoch is not None
            self._epoch = epoch
            self._state = ElectionState.LEADER
            self._leader = LeaderInfo(self._identity.instance, self._identity.address, epoch)
            self._transitions += 1
            self._last_election_at = elected_at = time.time()
            self._record_pending = epoch if self._track_leader else None
            self._record_backoff = 0.0
            self._publish()
            log.info("elected leader", extra={"epoch": epoch, "node": self._node})
            self._fire("on_elected", self._on_elected, epoch, elected_at)
        else:
            self._state = state

    def _fire(self, name: str, callback: Callable[..., None] | None, *args: Any) -> None:
        """Run a user callback; its failure is its own, never the election's."""
        if callback is None:
            return
        try:
            callback(*args)
        except Exception:
            log.exception("%s callback failed", name)

    def _connection_changed(self, state: KazooState) -> None:
        if state == KazooState.SUSPENDED:
            self._set_state(
                ElectionState.SUSPENDED, "connection to ZooKeeper suspended", ended_because="connection suspended"
            )
            log.warning("connection suspended; not leader until the session is confirmed")
        elif state == KazooState.LOST:
            self._set_state(ElectionState.CONNECTING, "session expired; re-enrolling", ended_because="session expired")
            self._forget_node()
            log.warning("session lost; will re-enrol with a new node")
        else:
            self._check()

    def _check(self) -> None:
        """The leadership check: enrol if needed, then lead or watch the predecessor."""
        session = self._session_id()
        if session is None:
            return  # not connected; the connection listener queues a check when it is
        if self._observer:
            self._observe(session)
            return
        if self._node_stat is not None and self._node_stat.ephemeralOwner != session:
            self._drop_node("session expired")
        if self._node is None:
            self._enrol()
            session = self._session_id()
            if session is None:
                return
        assert self._node is not None
        # One round trip, as in the textbook recipe: our node's owner and czxid
        # are known from its create, and the listing shows it still exists.
        # A `sync` goes out just ahead of the listing: ZooKeeper answers a
        # session's requests in order, so the listing is not a lagging
        # server's stale view, and the round trip that may start a lease has
        # reached the ZooKeeper leader (as every renewal does).
        started = self._clock()
        members = self._synced_members()
        members = self._delete_strays(members)
        position = next((i for i, m in enumerate(members) if m.name == self._node), None)
        if position is None:
            self._drop_node("member node deleted")
            self._tasks.put(_Task(_Kind.CHECK, "member node vanished"))
            return
        if position == 0:
            if self._yields_to_designated(members):
                return
            self._try_lead(session, started)
        else:
            self._follow(members[position - 1], members[0])
        self._backoff = 0.0
        self._retry_at = None
        self._reason = None
        if self._record_pending is not None and self._record_retry_at is None:
            self._write_leader_record()

    def _synced_members(self) -> list[MemberName]:
        pending_sync = self._client.sync_async(self._path)
        pending_members = self._client.get_children_async(self._path)
        self._call(pending_sync)
        return election_order(self._call(pending_members))

    def _delete_strays(self, members: list[MemberName]) -> list[MemberName]:
        """Delete member nodes of ours other than our current one (left by a
        create whose reply was lost): nobody could ever lead on them, and one
        ahead of us would block the election."""
        strays = [m for m in members if m.owner_uid == self._uid and m.name != self._node]
        if not strays:
            return members
        pending = [(m, self._client.delete_async(self._child_path(m.name))) for m in strays]
        for member, pending_delete in pending:
            with contextlib.suppress(NoNodeError):
                self._call(pending_delete)
            log.warning("deleted a stray member node of ours", extra={"node": member.name})
        return [m for m in members if m not in strays]

    def _try_lead(self, session: int, started: float) -> None:
        """Lead if our (lowest) node belongs to this session. The sync and
        listing that showed it lowest began at ``started``: they start the lease."""
        stat = self._node_stat
        assert stat is not None
        if stat.ephemeralOwner != session:
            # Not ours after all: never lead on someone else's node.
            self._drop_node("lowest node owned by another session")
            self._tasks.put(_Task(_Kind.CHECK, "foreign lowest node"))
            return
        if not self._lease.renew(started, self._lease_duration()):
            return  # the connection dropped meanwhile; its listener queued a check
        self._schedule_renewal()
        self._watched = None
        self._set_state(ElectionState.LEADER, None, epoch=stat.czxid)
        if self._pending_designation is not None:
            # The switchover that named us is done: clear it for the next one.
            self._delete_designation(self._pending_designation)
            self._pending_designation = None

    def _follow(self, predecessor: MemberName, lowest: MemberName) -> None:
        if self._state is ElectionState.LEADER:
            self._set_state(ElectionState.FOLLOWER, None, ended_because="a lower member exists")
        pending_leader = None if lowest == predecessor else self._client.get_async(self._child_path(lowest.name))
        try:
            data, stat = self._call(
                self._client.get_async(self._child_path(predecessor.name), watch=self._on_predecessor_event)
            )
            if pending_leader is not None:
                data, stat = self._call(pending_leader)
        except NoNodeError:
            # Gone between listing and watching: no watch was left; look again now.
            self._tasks.put(_Task(_Kind.CHECK, "predecessor vanished"))
            return
        self._watched = predecessor.name
        self._set_state(ElectionState.FOLLOWER, None)
        who = Identity.from_bytes(data)
        if who is not None:
            self._observe_leader(LeaderInfo(who.instance, who.address, stat.czxid))
        self._refresh_leader_record()

    def _renew_lease(self) -> None:
        """Leader only: a ``sync`` round trip through the ZooKeeper leader extends the lease."""
        self._next_renewal = None
        session = self._session_id()
        if self._state is not ElectionState.LEADER or session is None:
            return
        started = self._clock()
        self._call(self._client.sync_async(self._path))
        stat = self._call(self._client.exists_async(self._child_path(self._node)))
        if stat is None or stat.ephemeralOwner != session:
            self._check()
            return
        if self._lease.renew(started, self._lease_duration()):
            self._schedule_renewal()

    def _schedule_renewal(self) -> None:
        self._next_renewal = self._clock() + self._session_timeout * self._timings.renew_fraction

    def _resign(self) -> bool:
        if not self.is_leader:
            return False
        self._step_aside("resigned")
        return True

    def _step_aside(self, why: str) -> None:
        """Give up our place: end a term we hold, delete our node, re-enrol at the tail.

        The successor is notified by the delete. Re-enrolling is the next
        task; whether it succeeds (or is retried) does not change the hand-over."""
        self._set_state(ElectionState.FOLLOWER, None, ended_because=why)
        self._delete_own_node()
        self._tasks.put(_Task(_Kind.CHECK, f"re-enrol after: {why}"))

    def _yields_to_designated(self, members: list[MemberName]) -> bool:
        """Lowest member only: judge the switchover designation (watching it).

        True after stepping aside for another designated member. A stale
        designation is deleted (version-checked) and we lead; one naming us is
        deleted once we lead (:meth:`_try_lead`)."""
        path = designation_path(self._path)
        self._pending_designation = None
        # Both in one round trip: `exists` arms the watch (a `get` on an absent
        # node would leave none), the `get` reads the data if there is any.
        pending_exists = self._client.exists_async(path, watch=self._on_switchover_event)
        pending_get = self._client.get_async(path)
        self._call(pending_exists)
        try:
            data, stat = self._call(pending_get)
        except NoNodeError:
            return False
        designation = Designation.from_bytes(data)
        elapsed = self._designation_seen.elapsed(stat.czxid, self._clock())
        verdict: Verdict = (
            "stale" if designation is None else judge(designation, elapsed, str(self._node), {m.name for m in members})
        )
        if verdict == "yield":
            assert designation is not None
            log.info(
                "stepping aside for a switchover",
                extra={"candidate": designation.candidate_instance, "requested_by": designation.requested_by},
            )
            self._step_aside("switchover")
            return True
        if verdict == "stale":
            log.info("deleting a stale switchover designation", extra={"designation": data.decode(errors="replace")})
            self._delete_designation(stat.version)
        else:
            self._pending_designation = stat.version  # names us: cleared once we lead
        return False

    def _delete_designation(self, version: int) -> None:
        """Version-checked: never deletes a newer request."""
        with contextlib.suppress(NoNodeError, BadVersionError):
            self._call(self._client.delete_async(designation_path(self._path), version=version))

    def _observe(self, session: int) -> None:
        """Observers: stay registered and know the leader from the members (watched)."""
        self._register_observer(session)
        pending_sync = self._client.sync_async(self._path)
        self._call(self._client.ensure_path_async(self._path, acl=self._acl))
        pending_members = self._client.get_children_async(self._path, watch=self._on_members_event)
        self._call(pending_sync)
        members = election_order(self._call(pending_members))
        leader: LeaderInfo | None = None
        if members:
            try:
                data, stat = self._call(self._client.get_async(self._child_path(members[0].name)))
            except NoNodeError:
                self._tasks.put(_Task(_Kind.CHECK, "lowest member vanished"))
                return
            who = Identity.from_bytes(data)
            if who is not None:
                leader = LeaderInfo(who.instance, who.address, stat.czxid)
        # The lowest member leads or is about to: what followers report too.
        self._leader = leader
        self._epoch = None if leader is None else leader.epoch
        self._set_state(ElectionState.OBSERVER, None if leader else "no member in the election")
        self._backoff = 0.0
        self._retry_at = None

    def _register_observer(self, session: int) -> None:
        if self._registered is not None and self._registered[1] == session:
            return
        parent = observers_path(self._path)
        path = f"{parent}/{self._identity.instance}"
        self._call(self._client.ensure_path_async(parent, acl=self._acl))
        try:
            _, stat = self._call(self._client.get_async(path))
            if stat.ephemeralOwner != session:  # left by an earlier session of ours
                with contextlib.suppress(NoNodeError):
                    self._call(self._client.delete_async(path))
                stat = None
        except NoNodeError:
            stat = None
        if stat is None:
            with contextlib.suppress(NodeExistsError):  # a create whose reply was lost
                self._call(self._client.create_async(path, self._identity.to_bytes(), acl=self._acl, ephemeral=True))
        self._registered = (path, session)
        log.info("registered as an observer", extra={"node": path})

    def _close(self) -> None:
        self._set_state(ElectionState.STOPPED, "closed", ended_because="closed")
        try:
            if self._client.connected:
                self._delete_own_node()
        except KazooException as exc:
            log.warning("could not delete member node on close: %s", exc)
        self._fire("after_handover", self._after_handover)
        self._close_session()

    def _close_session(self) -> None:
        """Stop and close the client once, from whichever thread gets here first.
        Closing the session deletes our ephemeral node on the server at once."""
        with self._session_lock:
            if self._session_closed:
                return
            self._session_closed = True
        self._disconnected = True
        self._lease.cut(self._clock())
        self._client.remove_listener(self._on_connection_state)
        try:
            self._client.stop()
            self._client.close()
        except Exception:
            log.exception("closing the ZooKeeper client failed")

    # ------------------------------------------------------- znode helpers

    def _enrol(self) -> None:
        """Find this participant's node for the current session, or create it.

        Runs under kazoo's retry: a ``create`` cut off by a connection loss may
        have happened, so every attempt first syncs, then looks for our uid.
        """
        self._call(self._client.ensure_path_async(self._path, acl=self._acl))
        retry = KazooRetry(
            max_tries=self._timings.enrol_tries,
            delay=self._timings.initial_backoff,
            backoff=2,
            max_delay=1.0,
            ignore_expire=False,
        )
        self._node, self._node_stat = retry(self._find_or_create)
        log.info("enrolled", extra={"node": self._node})

    def _find_or_create(self) -> tuple[str, ZnodeStat]:
        # The session is read per attempt: a retry may run under a new one.
        session = self._session_id()
        if session is None:
            raise ConnectionLoss("not connected")
        # Synced, so that a create whose reply was lost shows here even if we
        # reconnected to a server that had not applied it yet.
        for member in self._synced_members():
            if member.owner_uid != self._uid:
                continue
            try:
                _, stat = self._call(self._client.get_async(self._child_path(member.name)))
            except NoNodeError:
                continue
            if stat.ephemeralOwner == session:
                log.info("adopted own node after an interrupted create", extra={"node": member.name})
                return member.name, stat
        created, stat = self._call(
            self._client.create_async(
                self._child_path(member_prefix(self._uid)),
                self._identity.to_bytes(),
                acl=self._acl,
                ephemeral=True,
                sequence=True,
                include_data=True,  # CREATE2: the new node's stat (owner, czxid) in the same reply
            )
        )
        return str(created).rsplit("/", 1)[1], stat

    def _delete_own_node(self) -> None:
        if self._node is None:
            return
        with contextlib.suppress(NoNodeError):
            self._call(self._client.delete_async(self._child_path(self._node)))
        self._forget_node()

    def _drop_node(self, why: str) -> None:
        """Our node is gone or not this session's: step down and forget it."""
        connected = self._client.connected and not self._disconnected
        self._set_state(ElectionState.FOLLOWER if connected else ElectionState.CONNECTING, why, ended_because=why)
        self._forget_node()

    def _forget_node(self) -> None:
        self._node = None
        self._node_stat = None
        self._watched = None

    def _write_leader_record(self) -> None:
        """Publish ourselves as leader on the election path, fenced by epoch;
        retried with back-off until it holds or we stop leading."""
        epoch = self._record_pending
        if epoch is None or self._state is not ElectionState.LEADER:
            self._record_pending = None
            return
        try:
            written = self._put_leader_record(LeaderInfo(self._identity.instance, self._identity.address, epoch))
        except KazooException as exc:
            log.warning("could not publish the leader record: %s", exc)
            written = False
        if written:
            self._record_pending = None
            self._record_backoff = 0.0
            return
        self._record_backoff = self._next_backoff(self._record_backoff)
        self._record_retry_at = self._clock() + self._record_backoff

    def _put_leader_record(self, record: LeaderInfo) -> bool:
        for _ in range(self._timings.record_tries):
            data, stat = self._call(self._client.get_async(self._path))
            current = leader_record.decode(data)
            if current is not None and current.epoch >= record.epoch:
                return True
            try:
                self._call(self._client.set_async(self._path, leader_record.encode(record), version=stat.version))
                return True
            except BadVersionError:
                continue
        log.warning("leader record changed under us %d times; retrying later", self._timings.record_tries)
        return False

    def _refresh_leader_record(self) -> None:
        """Followers: read (and keep watching) the leader record."""
        if not self._track_leader or self._state is not ElectionState.FOLLOWER or not self._client.connected:
            return
        data, _ = self._call(self._client.get_async(self._path, watch=self._on_leader_record_event))
        record = leader_record.decode(data)
        if record is not None:
            self._observe_leader(record)

    def _observe_leader(self, leader: LeaderInfo) -> None:
        """Adopt what we saw of the leader unless we already know a newer grant."""
        if self._leader is not None and self._leader.epoch > leader.epoch:
            return
        self._leader = leader
        self._epoch = leader.epoch

    def _child_path(self, name: str | None) -> str:
        return f"{self._path}/{name}"

    def _call(self, pending: Any) -> Any:
        """Wait for an async kazoo call, bounded by the session timeout.

        Each call that ends, answered or not, is progress for :meth:`liveness`:
        a worker waiting on a slow ensemble is healthy, a wedged one is not."""
        self._busy_since = self._clock()
        try:
            return pending.get(timeout=self._session_timeout)
        except self._client.handler.timeout_exception as exc:
            raise OperationTimeoutError(f"no reply within {self._session_timeout:.1f}s") from exc
        finally:
            self._busy_since = self._clock()

    def _session_id(self) -> int | None:
        """Our session id, or ``None`` when not connected. A connection that
        drops between two reads leaves ``client_id`` empty: that is never a
        session (id 0 would make our own node look foreign)."""
        if not self._client.connected:
            return None
        client_id = self._client.client_id
        if not client_id or not client_id[0]:
            return None
        return int(client_id[0])

    def _lease_duration(self) -> float:
        return self._session_timeout * self._timings.lease_fraction

    # ------------------------------------------------------------ snapshot

    def _snapshot(self) -> Status:
        state = ElectionState.STOPPED if self._session_closed else self._state
        if self._disconnected and state in (ElectionState.LEADER, ElectionState.FOLLOWER):
            state = ElectionState.SUSPENDED  # the listener saw it; the worker has not caught up yet
        if self._disconnected and state is ElectionState.OBSERVER:
            state = ElectionState.SUSPENDED
        connected = state in (ElectionState.LEADER, ElectionState.FOLLOWER, ElectionState.OBSERVER)
        return Status(
            state=state,
            instance=self._identity.instance,
            epoch=self._epoch if connected else None,
            leader=self._leader if connected else None,
            lease_deadline=self._lease.deadline if state is ElectionState.LEADER else None,
            enrolled=self._node is not None and connected,
            node=self._node,
            session_timeout=self._session_timeout,
            reason=self._reason,
            transitions=self._transitions,
            last_election_at=self._last_election_at,
            election_notifications=self._notifications,
            role="observer" if self._observer else "candidate",
        )

    def _publish(self, status: Status | None = None) -> None:
        """Make ``status`` (default: the current one) the snapshot and tell the
        observer; an observer that failed is offered it again after a back-off."""
        with self._publish_lock:
            status = status or self._snapshot()
            if status == self._status and self._published:
                return
            self._status = status
            self._published = False
            if self._on_status is not None:
                try:
                    self._on_status(status)
                except Exception:
                    log.exception("status observer failed; will offer the status again")
                    self._publish_backoff = self._next_backoff(self._publish_backoff)
                    self._publish_retry_at = self._clock() + self._publish_backoff
                    return
            self._published = True
            self._publish_backoff = 0.0
