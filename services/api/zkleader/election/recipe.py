"""The leader election recipe: one participant, one worker thread.

Each participant owns an ephemeral sequential member node under the election
path; the lowest (oldest, wrap-aware) member leads, and every other member
watches only its predecessor. What this adds to the textbook recipe:

* **Serialized checks.** kazoo watch and connection callbacks only put a task
  on a ``queue.Queue``; one worker thread owns all election state and makes
  every ZooKeeper call of a check. Nothing runs on kazoo's event thread.
* **Create-retry protection.** Node names carry the participant's uid; after a
  ``create`` whose reply was lost the participant adopts its node instead of
  leaving an orphan behind (kazoo ``Lock``, Curator protected mode).
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
"""

from __future__ import annotations

import contextlib
import enum
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import asdict, dataclass
from typing import Any

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import (
    BadVersionError,
    KazooException,
    NoNodeError,
    OperationTimeoutError,
)
from kazoo.protocol.states import WatchedEvent, ZnodeStat
from kazoo.retry import KazooRetry
from kazoo.security import ACL, OPEN_ACL_UNSAFE

from .fence import Fence
from .identity import Identity
from .lease import Clock, Lease, wall_time_of
from .naming import MemberName, election_order, member_prefix, new_participant_uid
from .status import ElectionState, LeaderInfo, Participant, Status

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
    RESIGN = "resign"
    CLOSE = "close"


@dataclass(frozen=True)
class _Task:
    kind: _Kind
    detail: Any = None
    reply: Future[bool] | None = None


@dataclass(frozen=True)
class ElectionTimings:
    """Tunables derived from the negotiated session timeout T.

    ``lease_fraction`` of T is how long a confirmed round trip is trusted;
    the leader renews every ``renew_fraction`` of T. Failed checks retry
    after 0.1 s doubling up to ``max_backoff``.
    """

    lease_fraction: float = 0.5
    renew_fraction: float = 0.125
    max_backoff: float = 5.0

    def __post_init__(self) -> None:
        if not 0 < self.lease_fraction < 1:
            raise ValueError("lease_fraction must be in (0, 1): the lease must end before the session can")
        if not 0 < self.renew_fraction < self.lease_fraction:
            raise ValueError("renew_fraction must be positive and below lease_fraction")


class LeaderElection:
    """Takes part in the election under ``path`` with the given kazoo client.

    The election owns the client from :meth:`start` to :meth:`close`: it adds
    a connection listener, starts the client if needed and stops it on close.

    ``track_leader`` (default on) publishes the leader record and has every
    follower watch it, so all participants know the current leader and epoch.
    That costs each follower one notification and one read per leader change,
    on top of the single predecessor notification that drives the election;
    turn it off for large elections whose followers need not know the leader
    (followers then learn it only when their own predecessor changes).
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
        clock: Clock = time.monotonic,
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
        self._clock = clock
        self._uid = new_participant_uid()
        self._tasks: queue.Queue[_Task] = queue.Queue()
        self._lease = Lease()
        self._worker = threading.Thread(target=self._run, name="election-worker", daemon=True)
        self._started = False
        self._session_timeout: float = client._session_timeout / 1000.0  # requested; replaced once negotiated
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
        self._status = self._snapshot()

    # ------------------------------------------------------------------ API

    @property
    def path(self) -> str:
        return self._path

    @property
    def identity(self) -> Identity:
        return self._identity

    @property
    def status(self) -> Status:
        """The latest consistent snapshot (cheap, never touches ZooKeeper)."""
        return self._status

    @property
    def is_leader(self) -> bool:
        """True only while elected, connected and within the lease."""
        return self._client.state == KazooState.CONNECTED and self._status.is_leader_at(self._clock())

    @property
    def client(self) -> KazooClient:
        """The kazoo client whose session holds our member node (for fenced writes)."""
        return self._client

    def fence(self) -> Fence | None:
        """Our member node and epoch while we lead now (lease included), else None."""
        node, epoch = self._node, self._epoch
        if node is None or epoch is None or not self.is_leader:
            return None
        return Fence(f"{self._path}/{node}", epoch)

    def start(self) -> None:
        """Join the election; returns at once even if ZooKeeper is unreachable."""
        if self._started:
            raise RuntimeError("election already started")
        self._started = True
        if self._acl == list(OPEN_ACL_UNSAFE):
            log.warning("no ACL given: any client that reaches ZooKeeper may create or delete election nodes")
        self._track_negotiated_timeout()
        self._client.add_listener(self._on_connection_state)
        self._worker.start()
        self._client.start_async()
        self._tasks.put(_Task(_Kind.CHECK, "start"))

    def resign(self, timeout: float = 10.0) -> bool:
        """Hand leadership to the next member and re-enrol at the tail.

        Returns False when this participant was not leading.
        """
        return self._ask(_Kind.RESIGN, timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Leave: end the term, delete the node, close the session.

        Deleting the node notifies the successor at once, so it leads within a
        round trip instead of a session timeout.
        """
        if not self._started:
            self._client.stop()
            self._client.close()
            return
        if self._worker.is_alive():
            self._ask(_Kind.CLOSE, timeout)
            self._worker.join(timeout)

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

    # ------------------------------------------------- callbacks (enqueue only)

    def _on_connection_state(self, state: KazooState) -> None:
        self._tasks.put(_Task(_Kind.CONNECTION, state))

    def _on_predecessor_event(self, event: WatchedEvent) -> None:
        self._tasks.put(_Task(_Kind.PREDECESSOR, event))

    def _on_leader_record_event(self, event: WatchedEvent) -> None:
        self._tasks.put(_Task(_Kind.LEADER_RECORD, event))

    def _ask(self, kind: _Kind, timeout: float) -> bool:
        if not self._worker.is_alive():
            raise RuntimeError("the election is not running")
        reply: Future[bool] = Future()
        self._tasks.put(_Task(kind, reply=reply))
        return reply.result(timeout)

    # ----------------------------------------------------------- the worker

    def _run(self) -> None:
        while True:
            try:
                task = self._tasks.get(timeout=self._idle_timeout())
            except queue.Empty:
                task = None
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

    def _handle(self, task: _Task) -> bool:
        """Run one task; False when the worker should stop."""
        if task.kind is _Kind.CLOSE:
            self._close()
            if task.reply is not None:
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
        elif task.kind is _Kind.RESIGN:
            assert task.reply is not None
            task.reply.set_result(self._resign())
        else:
            self._check()
        return True

    def _idle_timeout(self) -> float | None:
        deadlines = [d for d in (self._retry_at, self._next_renewal) if d is not None]
        if not deadlines:
            return None
        return max(0.0, min(deadlines) - self._clock())

    def _on_timer(self) -> None:
        now = self._clock()
        if self._retry_at is not None and now >= self._retry_at:
            self._retry_at = None
            self._check()
        elif self._next_renewal is not None and now >= self._next_renewal:
            self._renew_lease()

    def _schedule_retry(self, exc: Exception) -> None:
        self._backoff = min(max(0.1, self._backoff * 2), self._timings.max_backoff)
        self._retry_at = self._clock() + self._backoff
        self._reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
        log.warning(
            "election check failed, retrying in %.1fs: %s",
            self._backoff,
            self._reason,
            exc_info=not isinstance(exc, KazooException),
        )

    # ------------------------------------------------------ state handling

    def _connection_changed(self, state: KazooState) -> None:
        if state == KazooState.SUSPENDED:
            self._revoke("connection suspended")
            self._state = ElectionState.SUSPENDED
            self._reason = "connection to ZooKeeper suspended"
            log.warning("connection suspended; not leader until the session is confirmed")
        elif state == KazooState.LOST:
            self._revoke("session expired")
            self._forget_node()
            self._state = ElectionState.CONNECTING
            self._reason = "session expired; re-enrolling"
            log.warning("session lost; will re-enrol with a new node")
        else:
            self._check()

    def _check(self) -> None:
        """The leadership check: enrol if needed, then lead or watch the predecessor."""
        if not self._client.connected:
            return
        session = self._session_id()
        if self._node_stat is not None and self._node_stat.ephemeralOwner != session:
            self._revoke("session expired")
            self._forget_node()
        if self._node is None:
            self._enrol(session)
        assert self._node is not None
        # One round trip, as in the textbook recipe: our node's owner and czxid
        # are known from its create, and the listing shows it still exists.
        # A `sync` goes out just ahead of the listing: ZooKeeper answers a
        # session's requests in order, so the listing is not a lagging
        # server's stale view, and the round trip that may start a lease has
        # reached the ZooKeeper leader (as every renewal does).
        started = self._clock()
        pending_sync = self._client.sync_async(self._path)
        pending_members = self._client.get_children_async(self._path)
        self._call(pending_sync)
        members = election_order(self._call(pending_members))
        position = next((i for i, m in enumerate(members) if m.name == self._node), None)
        if position is None:
            self._revoke("member node deleted")
            self._forget_node()
            self._tasks.put(_Task(_Kind.CHECK, "member node vanished"))
            return
        if position == 0:
            self._try_lead(session, started)
        else:
            self._follow(members[position - 1], members[0])
        self._backoff = 0.0
        self._retry_at = None
        self._reason = None

    def _try_lead(self, session: int, started: float) -> None:
        """Lead if our (lowest) node belongs to this session. The sync and
        listing that showed it lowest began at ``started``: they start the lease."""
        stat = self._node_stat
        assert stat is not None
        if stat.ephemeralOwner != session:
            # Not ours after all: never lead on someone else's node.
            self._revoke("lowest node owned by another session")
            self._forget_node()
            self._tasks.put(_Task(_Kind.CHECK, "foreign lowest node"))
            return
        self._lease.renew(started, self._lease_duration())
        self._schedule_renewal()
        self._watched = None
        if self._state is ElectionState.LEADER and self._epoch == stat.czxid:
            return
        self._epoch = stat.czxid
        self._state = ElectionState.LEADER
        self._leader = LeaderInfo(self._identity.instance, self._identity.address, stat.czxid)
        self._transitions += 1
        elected_at = time.time()
        self._last_election_at = elected_at
        self._publish()
        if self._on_elected is not None:
            self._on_elected(stat.czxid, elected_at)
        log.info("elected leader", extra={"epoch": stat.czxid, "node": self._node})
        try:
            self._write_leader_record(stat.czxid)
        except KazooException as exc:  # followers still find the leader in their own checks
            log.warning("could not publish the leader record: %s", exc)

    def _follow(self, predecessor: MemberName, lowest: MemberName) -> None:
        self._revoke("a lower member exists")
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
        self._state = ElectionState.FOLLOWER
        who = Identity.from_bytes(data)
        if who is not None:
            self._observe_leader(LeaderInfo(who.instance, who.address, stat.czxid))
        self._refresh_leader_record()

    def _renew_lease(self) -> None:
        """Leader only: a ``sync`` round trip through the ZooKeeper leader extends the lease."""
        self._next_renewal = None
        if self._state is not ElectionState.LEADER or not self._client.connected:
            return
        started = self._clock()
        self._call(self._client.sync_async(self._path))
        stat = self._call(self._client.exists_async(self._child_path(self._node)))
        if stat is None or stat.ephemeralOwner != self._session_id():
            self._check()
            return
        self._lease.renew(started, self._lease_duration())
        self._schedule_renewal()

    def _schedule_renewal(self) -> None:
        self._next_renewal = self._clock() + self._session_timeout * self._timings.renew_fraction

    def _revoke(self, reason: str) -> None:
        if self._state is not ElectionState.LEADER:
            return
        deadline = self._lease.deadline
        now = self._clock()
        self._lease.revoke()
        self._next_renewal = None
        self._state = ElectionState.FOLLOWER
        self._leader = None
        # A leader can only have acted until its lease ran out.
        ended_at = wall_time_of(deadline, self._clock) if deadline is not None and deadline < now else time.time()
        self._transitions += 1
        deliberate = reason in ("closed", "resigned")
        log.log(
            logging.INFO if deliberate else logging.WARNING,
            "leadership ended",
            extra={"epoch": self._epoch, "reason": reason},
        )
        self._publish()
        if self._on_revoked is not None:
            self._on_revoked(reason, ended_at)

    def _resign(self) -> bool:
        if not self.is_leader:
            return False
        self._revoke("resigned")
        self._delete_own_node()
        self._check()
        return True

    def _close(self) -> None:
        self._revoke("closed")
        try:
            if self._client.connected:
                self._delete_own_node()
        except KazooException as exc:
            log.warning("could not delete member node on close: %s", exc)
        self._state = ElectionState.STOPPED
        self._reason = "closed"
        self._client.remove_listener(self._on_connection_state)
        self._client.stop()
        self._client.close()

    # ------------------------------------------------------- znode helpers

    def _enrol(self, session: int) -> None:
        """Find this participant's node for this session, or create it.

        Runs under kazoo's retry: a ``create`` cut off by a connection loss may
        have happened, so every attempt first looks for our uid.
        """
        self._call(self._client.ensure_path_async(self._path, acl=self._acl))
        retry = KazooRetry(max_tries=5, delay=0.1, backoff=2, max_delay=1.0, ignore_expire=False)
        self._node, self._node_stat = retry(self._find_or_create, session)
        log.info("enrolled", extra={"node": self._node})

    def _find_or_create(self, session: int) -> tuple[str, ZnodeStat]:
        for member in election_order(self._call(self._client.get_children_async(self._path))):
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

    def _forget_node(self) -> None:
        self._node = None
        self._node_stat = None
        self._watched = None
        if self._state is not ElectionState.STOPPED:
            self._state = ElectionState.CONNECTING if not self._client.connected else ElectionState.FOLLOWER

    def _write_leader_record(self, epoch: int) -> None:
        """Publish ourselves as leader on the election path, fenced by epoch."""
        if not self._track_leader:
            return
        record = LeaderInfo(self._identity.instance, self._identity.address, epoch)
        for _ in range(5):
            data, stat = self._call(self._client.get_async(self._path))
            current = _decode_leader_record(data)
            if current is not None and current.epoch >= epoch:
                return
            try:
                self._call(self._client.set_async(self._path, _encode_leader_record(record), version=stat.version))
                return
            except BadVersionError:
                continue

    def _refresh_leader_record(self) -> None:
        """Followers: read (and keep watching) the leader record."""
        if not self._track_leader or self._state is not ElectionState.FOLLOWER or not self._client.connected:
            return
        data, _ = self._call(self._client.get_async(self._path, watch=self._on_leader_record_event))
        record = _decode_leader_record(data)
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
        """Wait for an async kazoo call, bounded by the session timeout."""
        try:
            return pending.get(timeout=self._session_timeout)
        except self._client.handler.timeout_exception as exc:
            raise OperationTimeoutError(f"no reply within {self._session_timeout:.1f}s") from exc

    def _session_id(self) -> int:
        client_id = self._client.client_id
        return int(client_id[0]) if client_id else 0

    def _lease_duration(self) -> float:
        return self._session_timeout * self._timings.lease_fraction

    def _track_negotiated_timeout(self) -> None:
        """Learn the session timeout the server granted (it may clamp ours).

        kazoo computes it in ``ConnectionHandler._connect`` (which returns
        read_timeout = 2/3 of it) but does not keep it; wrap that method on our
        own client's connection. Without it (another kazoo), the requested
        timeout is used and a warning is logged.
        """
        connection = getattr(self._client, "_connection", None)
        original = getattr(connection, "_connect", None)
        if original is None:
            log.warning("cannot learn the negotiated session timeout; assuming the requested one")
            return

        def connect(*args: Any, **kwargs: Any) -> Any:
            read_timeout, connect_timeout = original(*args, **kwargs)
            negotiated = read_timeout * 1.5 / 1000.0
            if abs(negotiated - self._session_timeout) > 0.001:
                log.info("session timeout negotiated", extra={"session_timeout": negotiated})
            self._session_timeout = negotiated
            return read_timeout, connect_timeout

        connection._connect = connect  # type: ignore[union-attr]

    # ------------------------------------------------------------ snapshot

    def _snapshot(self) -> Status:
        connected = self._state in (ElectionState.LEADER, ElectionState.FOLLOWER)
        return Status(
            state=self._state,
            instance=self._identity.instance,
            epoch=self._epoch if connected else None,
            leader=self._leader if connected else None,
            lease_deadline=self._lease.deadline if self._state is ElectionState.LEADER else None,
            enrolled=self._node is not None and connected,
            node=self._node,
            session_timeout=self._session_timeout,
            reason=self._reason,
            transitions=self._transitions,
            last_election_at=self._last_election_at,
            election_notifications=self._notifications,
        )

    def _publish(self) -> None:
        status = self._snapshot()
        if status == self._status:
            return
        self._status = status
        if self._on_status is not None:
            try:
                self._on_status(status)
            except Exception:
                log.exception("status observer failed")


def _encode_leader_record(record: LeaderInfo) -> bytes:
    return json.dumps(asdict(record), separators=(",", ":")).encode()


def _decode_leader_record(data: bytes | None) -> LeaderInfo | None:
    """The election path's data; ``None`` when empty or not ours."""
    try:
        raw = json.loads(data or b"")
        return LeaderInfo(str(raw["instance"]), str(raw["address"]), int(raw["epoch"]))
    except (ValueError, KeyError, TypeError):
        return None
