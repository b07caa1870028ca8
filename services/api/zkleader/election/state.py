"""The one owner of a participant's state, and the :class:`Status` it publishes.

:meth:`ParticipantState.transition` is the only place the election state,
the epoch, the leader seen and our member node change (Curator's
``LeaderLatch.setLeadership``): every gain or loss of leadership goes through
it, it counts the transition, publishes the new snapshot, then tells the
callbacks (``on_elected`` / ``on_revoked``) and the leadership listeners
(the leader record), only on a change. It runs on the election worker.

The one writer from another thread is kazoo's event thread:
:meth:`ParticipantState.connection_dropped` cuts the lease and publishes the
suspended status at once (no ZooKeeper call, no waiting on the worker), so
leadership ends everywhere even while the worker is blocked in a call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from kazoo.protocol.states import ZnodeStat

from .identity import Identity
from .lease import Clock, Lease, wall_time_of
from .status import ElectionState, LeaderInfo, Status

log = logging.getLogger("zkleader.election")

ElectedCallback = Callable[[int, float], None]
"""``(epoch, elected_at_unix_seconds)``"""
RevokedCallback = Callable[[str, float], None]
"""``(reason, ended_at_unix_seconds)``"""
StatusCallback = Callable[[Status], None]

_CONNECTED_STATES = (ElectionState.LEADER, ElectionState.FOLLOWER, ElectionState.OBSERVER)
_DELIBERATE = ("closed", "resigned", "switchover")
_KEEP: Any = object()  # "leave this field as it is"


class LeadershipListener(Protocol):
    """Told on the worker thread, after the callbacks, of every gain and loss."""

    def gained(self, epoch: int) -> None: ...

    def lost(self) -> None: ...


def fire(name: str, callback: Callable[..., None] | None, *args: Any) -> None:
    """Run a user callback; its failure is its own, never the election's."""
    if callback is None:
        return
    try:
        callback(*args)
    except Exception:
        log.exception("%s callback failed", name)


class ParticipantState:
    """Owns what the participant knows; builds and publishes :class:`Status`."""

    def __init__(
        self,
        identity: Identity,
        *,
        observer: bool,
        lease: Lease,
        clock: Clock,
        session_timeout: Callable[[], float],
        on_elected: ElectedCallback | None,
        on_revoked: RevokedCallback | None,
        on_status: StatusCallback | None,
    ) -> None:
        self._identity = identity
        self._observer = observer
        self._lease = lease
        self._clock = clock
        self._session_timeout = session_timeout
        self._on_elected = on_elected
        self._on_revoked = on_revoked
        self._on_status = on_status
        self._listeners: list[LeadershipListener] = []
        # Shared with kazoo's event thread (set there, read by anyone).
        self._disconnected = False
        self._closed = False
        self._publish_lock = threading.RLock()
        self._published = True  # the observer has seen self._status
        # Written on the worker only, by the methods below.
        self._state = ElectionState.CONNECTING
        self._node: str | None = None
        self._node_stat: ZnodeStat | None = None  # from our create (or adoption): owner, czxid
        self._epoch: int | None = None
        self._leader: LeaderInfo | None = None
        self._reason: str | None = "starting"
        self._transitions = 0
        self._notifications = 0
        self._last_election_at: float | None = None
        self._status = self.snapshot()

    def add_listener(self, listener: LeadershipListener) -> None:
        self._listeners.append(listener)

    # ------------------------------------------------------------- reading

    @property
    def state(self) -> ElectionState:
        return self._state

    @property
    def node(self) -> str | None:
        return self._node

    @property
    def node_stat(self) -> ZnodeStat | None:
        return self._node_stat

    @property
    def leader(self) -> LeaderInfo | None:
        return self._leader

    @property
    def disconnected(self) -> bool:
        return self._disconnected

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def status(self) -> Status:
        """The latest published snapshot (any thread)."""
        return self._status

    # -------------------------------------------------- the one transition

    def transition(
        self,
        state: ElectionState,
        reason: str | None,
        *,
        ended_because: str | None = None,
        epoch: int | None = None,
        node: str | None = _KEEP,
        node_stat: ZnodeStat | None = _KEEP,
        leader: LeaderInfo | None = _KEEP,
    ) -> None:
        """The one place the election state changes (Curator's ``setLeadership``).

        Leaving LEADER (or a new ``epoch`` while leading) ends the lease,
        counts a transition, publishes, then tells ``on_revoked``
        (``ended_because``) and the listeners. Entering LEADER records the
        grant (``epoch``), counts, publishes, then tells ``on_elected`` and
        the listeners. Callbacks fire only on such a change. ``node``,
        ``node_stat`` and ``leader`` (seen as follower or observer) change
        only when given. STOPPED is final.
        """
        old = self._state
        if old is ElectionState.STOPPED:
            if state is ElectionState.STOPPED:  # what close() does after the end of term
                self._set_fields(node, node_stat, _KEEP)
            return
        self._reason = reason
        if old is ElectionState.LEADER and (state is not ElectionState.LEADER or epoch != self._epoch):
            ended = self._lease.revoke(self._clock())
            self._leader = None
            self._transitions += 1
            self._state = state if state is not ElectionState.LEADER else ElectionState.FOLLOWER
            # A leader can only have acted until its lease ran out.
            ended_at = wall_time_of(ended, self._clock) if ended is not None else time.time()
            why = ended_because or reason or state.value
            log.log(
                logging.INFO if why in _DELIBERATE else logging.WARNING,
                "leadership ended",
                extra={"epoch": self._epoch, "reason": why},
            )
            self._set_fields(node, node_stat, leader)
            self.publish()
            fire("on_revoked", self._on_revoked, why, ended_at)
            for listener in self._listeners:
                listener.lost()
        else:
            self._set_fields(node, node_stat, leader)
        if state is ElectionState.LEADER and self._state is not ElectionState.LEADER:
            assert epoch is not None
            self._epoch = epoch
            self._state = ElectionState.LEADER
            self._leader = LeaderInfo(self._identity.instance, self._identity.address, epoch)
            self._transitions += 1
            self._last_election_at = elected_at = time.time()
            self.publish()
            log.info("elected leader", extra={"epoch": epoch, "node": self._node})
            fire("on_elected", self._on_elected, epoch, elected_at)
            for listener in self._listeners:
                listener.gained(epoch)
        else:
            self._state = state

    def _set_fields(self, node: str | None, node_stat: ZnodeStat | None, leader: LeaderInfo | None) -> None:
        if node is not _KEEP:
            self._node = node
        if node_stat is not _KEEP:
            self._node_stat = node_stat
        if leader is None:  # an observer that sees no member
            self._leader = self._epoch = None
        elif leader is not _KEEP:
            self.saw_leader(leader)

    def saw_leader(self, leader: LeaderInfo) -> None:
        """Adopt what we saw of the leader unless we already know a newer grant."""
        if self._leader is not None and self._leader.epoch > leader.epoch:
            return
        self._leader = leader
        self._epoch = leader.epoch

    def enrolled(self, node: str, node_stat: ZnodeStat) -> None:
        """Our node (a new one, or adopted), before the check that found it decides."""
        self._node, self._node_stat = node, node_stat

    def count_notification(self) -> None:
        self._notifications += 1

    def close(self) -> None:
        """Final: the snapshot says STOPPED from now on, whoever publishes."""
        self._closed = True
        self._disconnected = True
        self._lease.cut(self._clock())

    # ------------------------------------------- kazoo's event thread

    def connection_restored(self) -> None:
        self._disconnected = False

    def connection_dropped(self) -> None:
        """Any thread (kazoo's event thread): end leadership here and now."""
        self._disconnected = True
        self._lease.cut(self._clock())
        with self._publish_lock:
            current = self._status
            if current.state in _CONNECTED_STATES:
                self.publish(replace(current, state=ElectionState.SUSPENDED, lease_deadline=None))

    # ------------------------------------------------------------ snapshot

    def snapshot(self) -> Status:
        state = ElectionState.STOPPED if self._closed else self._state
        if self._disconnected and state in _CONNECTED_STATES:
            state = ElectionState.SUSPENDED  # the listener saw it; the worker has not caught up yet
        connected = state in _CONNECTED_STATES
        return Status(
            state=state,
            instance=self._identity.instance,
            epoch=self._epoch if connected else None,
            leader=self._leader if connected else None,
            lease_deadline=self._lease.deadline if state is ElectionState.LEADER else None,
            enrolled=self._node is not None and connected,
            node=self._node,
            session_timeout=self._session_timeout(),
            reason=self._reason,
            transitions=self._transitions,
            last_election_at=self._last_election_at,
            election_notifications=self._notifications,
            role="observer" if self._observer else "candidate",
        )

    def publish(self, status: Status | None = None) -> bool:
        """Make ``status`` (default: the current one) the snapshot and tell the
        observer. False when the observer failed: offer it again later."""
        with self._publish_lock:
            status = status or self.snapshot()
            if status == self._status and self._published:
                return True
            self._status = status
            self._published = False
            if self._on_status is not None:
                try:
                    self._on_status(status)
                except Exception:
                    log.exception("status observer failed; will offer the status again")
                    return False
            self._published = True
            return True

    def set_reason(self, reason: str | None) -> None:
        self._reason = reason
