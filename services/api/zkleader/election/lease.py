"""A leadership lease on the monotonic clock: the zombie guard.

ZooKeeper expires a session when the server has heard nothing from it for the
negotiated session timeout T. If a round trip that *started* at ``t`` (our
clock) was answered, the server heard from us after ``t``, so it cannot expire
the session before ``t + T``. A leader that only believes it leads until
``t + lease`` with ``lease < T`` therefore stops believing before any
successor can be elected, even if the process was frozen (GC, ``docker
pause``) and no callback has had a chance to run: the check is a clock read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

Clock = Callable[[], float]


class Lease:
    """Holds the deadline until which a confirmed session is trusted; whoever
    asks compares it with their own read of the monotonic clock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._deadline: float | None = None

    def renew(self, started_at: float, duration: float) -> None:
        """Extend after a round trip that began at ``started_at`` succeeded."""
        with self._lock:
            deadline = started_at + duration
            if self._deadline is None or deadline > self._deadline:
                self._deadline = deadline

    def revoke(self) -> None:
        with self._lock:
            self._deadline = None

    @property
    def deadline(self) -> float | None:
        """Monotonic deadline, or ``None`` when there is no lease."""
        with self._lock:
            return self._deadline


def wall_time_of(monotonic_instant: float, clock: Clock = time.monotonic) -> float:
    """Convert a monotonic instant to Unix seconds (for records meant for humans)."""
    return time.time() - (clock() - monotonic_instant)
