"""A leadership lease: the zombie guard.

ZooKeeper expires a session when the server has heard nothing from it for the
negotiated session timeout T. If a round trip that *started* at ``t`` (our
clock) was answered, the server heard from us after ``t``, so it cannot expire
the session before ``t + T``. A leader that only believes it leads until
``t + lease`` with ``lease < T`` therefore stops believing before any
successor can be elected, even if the process was frozen (GC, ``docker
pause``) and no callback has had a chance to run: the check is a clock read.

The clock is :func:`now`: ``CLOCK_BOOTTIME`` on Linux, which keeps counting
while the machine is suspended, as the server's session clock does.
``CLOCK_MONOTONIC`` (``time.monotonic``) stops during suspend, so a leader
waking from a laptop-style suspend would still trust a lease that ran out
long ago. Where ``CLOCK_BOOTTIME`` does not exist (macOS, Windows) the
fallback is ``time.monotonic``, with that caveat. All processes of one host
share the clock, so a deadline written by one can be compared by another.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from .timings import ElectionTimings

Clock = Callable[[], float]

_BOOTTIME: int | None = getattr(time, "CLOCK_BOOTTIME", None)


def now() -> float:
    """Seconds on the lease clock (``CLOCK_BOOTTIME`` where it exists, else monotonic)."""
    if _BOOTTIME is not None:
        return time.clock_gettime(_BOOTTIME)
    return time.monotonic()


class Lease:
    """Holds the deadline until which a confirmed session is trusted; whoever
    asks compares it with their own read of the lease clock.

    Thread-safe: the election worker renews it, and kazoo's event thread may
    revoke it the moment the connection is suspended. A round trip that began
    before a revocation cannot renew the lease afterwards.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._deadline: float | None = None
        self._revoked_at: float | None = None
        self._ended_at: float | None = None

    def renew(self, started_at: float, duration: float) -> bool:
        """Extend after a round trip that began at ``started_at`` succeeded.

        Returns False (and changes nothing) when the lease was revoked after
        that round trip began: its answer says nothing about the connection now.
        """
        with self._lock:
            if self._revoked_at is not None and started_at <= self._revoked_at:
                return False
            deadline = started_at + duration
            if self._deadline is None or deadline > self._deadline:
                self._deadline = deadline
            self._ended_at = None
            return True

    def cut(self, at: float) -> None:
        """End the lease at ``at`` (lease clock), from any thread.

        The instant it really ended is kept for the next :meth:`revoke`, so
        that whoever reports the end of the term reports when it ended.
        """
        with self._lock:
            self._cut(at)

    def revoke(self, at: float) -> float | None:
        """End the lease at ``at`` and report when it really ended.

        That is its deadline when that came first, the time of an earlier
        :meth:`cut` not yet reported, or ``at``; ``None`` when there was no
        lease at all.
        """
        with self._lock:
            self._cut(at)
            ended_at, self._ended_at = self._ended_at, None
            return ended_at

    def _cut(self, at: float) -> None:
        self._revoked_at = max(at, self._revoked_at or at)
        if self._deadline is not None:
            self._ended_at = min(self._deadline, at)
            self._deadline = None

    @property
    def deadline(self) -> float | None:
        """Deadline on the lease clock, or ``None`` when there is no lease."""
        with self._lock:
            return self._deadline


def wall_time_of(instant: float, clock: Clock = now) -> float:
    """Convert an instant of ``clock`` to Unix seconds (for records meant for humans)."""
    return time.time() - (clock() - instant)


class LeaseRenewal:
    """The lease of a leader, sized by the negotiated session timeout T.

    A lease starts from the synced listing that showed us lowest
    (:meth:`grant`) and is extended by :meth:`renew`: a ``sync`` round trip
    through the ZooKeeper leader plus a look at our node (still there, still
    this session's), every ``renew_fraction`` of T. Worker thread only."""

    def __init__(
        self,
        lease: Lease,
        clock: Clock,
        client: Any,
        path: str,
        call: Callable[[Any], Any],
        session_timeout: Callable[[], float],
        timings: ElectionTimings,
    ) -> None:
        self._lease = lease
        self._clock = clock
        self._client = client
        self._path = path
        self._call = call
        self._session_timeout = session_timeout
        self._timings = timings

    def duration(self) -> float:
        return self._session_timeout() * self._timings.lease_fraction

    def period(self) -> float:
        """How long until the next renewal."""
        return self._session_timeout() * self._timings.renew_fraction

    def grant(self, started: float) -> bool:
        """Start (or extend) the lease from a round trip begun at ``started``;
        False when the connection dropped after it began."""
        return self._lease.renew(started, self.duration())

    def renew(self, member_path: str, session: int) -> bool | None:
        """One renewal round trip. ``None`` when our node is gone or not this
        session's (check the election again); else whether the lease holds."""
        started = self._clock()
        self._call(self._client.sync_async(self._path))
        stat = self._call(self._client.exists_async(member_path))
        if stat is None or stat.ephemeralOwner != session:
            return None
        return self._lease.renew(started, self.duration())
