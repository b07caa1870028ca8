"""What kazoo does not expose and the election needs: the negotiated session timeout.

**Why.** The server clamps the requested session timeout T to its own bounds
(by default 2 to 20 ticks). The lease must stay below the *negotiated* T (a
lease sized by a 30 s request against a server that grants 10 s would
outlive the session, and a successor could lead while we still believe we
do). kazoo computes it on every (re)connect but keeps it only as locals of
its connection thread: ``ConnectionHandler._connect`` has
``negotiated_session_timeout`` (milliseconds), and ``_connect_attempt`` keeps
``read_timeout`` (2/3 of T, seconds) for the life of the connection.

**What this reads, read-only, scoped to our own client.** Nothing is patched
and no private method of kazoo is called:

* :meth:`NegotiatedTimeout.learn_in_listener`, from the election's own
  connection listener: kazoo calls listeners synchronously from inside
  ``_connect`` on its connection thread, so the caller's frames include the
  ``_connect`` frame whose ``self`` is ``client._connection``; we read its
  ``negotiated_session_timeout``. This covers every reconnect.
* :meth:`NegotiatedTimeout.learn_from_connection_thread`, for a client that
  is already connected when the election starts (it negotiated before our
  listener existed): ``sys._current_frames()`` gives the connection thread's
  stack; the ``_connect_attempt`` frame whose ``self`` is
  ``client._connection`` holds ``read_timeout`` (T = 1.5 ``read_timeout``).
  It is sampled twice, a few milliseconds apart, and only trusted when both
  samples agree and no ``_connect`` is in progress (just after ``_connect``
  returns, ``read_timeout`` is briefly still in milliseconds).

**Fallback and its risk.** When neither can be read (another kazoo version
renamed these locals, a handler without threads, a fake client), the
requested timeout is used and one warning is logged. If the server clamped
the request *down*, the lease is then longer than the session: a frozen
leader may still believe it leads after its session expired. Request a
timeout within the server's bounds to be safe in that case.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from types import FrameType
from typing import Any

from kazoo.client import KazooClient

log = logging.getLogger("zkleader.election")


def requested_timeout(client: KazooClient) -> float:
    """The session timeout the client asks for, in seconds."""
    return float(getattr(client, "_session_timeout", 10000)) / 1000.0


def _owned_frame(frame: FrameType | None, name: str, connection: Any) -> FrameType | None:
    """The innermost frame of function ``name`` whose ``self`` is ``connection``."""
    while frame is not None:
        if frame.f_code.co_name == name and frame.f_locals.get("self") is connection:
            return frame
        frame = frame.f_back
    return None


def _positive(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and value > 0 else None


class NegotiatedTimeout:
    """The negotiated session timeout of one client, as far as it is known.

    ``seconds`` starts as the requested timeout and is replaced whenever the
    negotiated one is read. Thread-safe for readers (one float)."""

    def __init__(self, client: KazooClient) -> None:
        self._client = client
        self.seconds = requested_timeout(client)
        self._warned = False
        self._lock = threading.Lock()

    def learn_in_listener(self) -> None:
        """From our CONNECTED listener, called by kazoo inside ``_connect``."""
        connection = getattr(self._client, "_connection", None)
        frame = _owned_frame(sys._getframe(1), "_connect", connection) if connection is not None else None
        millis = None if frame is None else _positive(frame.f_locals.get("negotiated_session_timeout"))
        if millis is None:
            # Not called from within _connect (a fake client, or another
            # kazoo): try the connection thread as for a connected client.
            self.learn_from_connection_thread()
            return
        self._learned(millis / 1000.0)

    def learn_from_connection_thread(self) -> None:
        """For a client that connected before our listener was added."""
        first = self._sample()
        if first is not None:
            time.sleep(0.005)
            if self._sample() == first:
                self._learned(first)
                return
        self._fallback()

    def _sample(self) -> float | None:
        connection = getattr(self._client, "_connection", None)
        if connection is None:
            return None
        for ident, frame in sys._current_frames().items():
            if ident == threading.get_ident():
                continue
            attempt = _owned_frame(frame, "_connect_attempt", connection)
            if attempt is None:
                continue
            if _owned_frame(frame, "_connect", connection) is not None:
                return None  # still negotiating: read_timeout is not set (or not in seconds) yet
            read_timeout = _positive(attempt.f_locals.get("read_timeout"))
            return None if read_timeout is None else read_timeout * 1.5
        return None

    def _learned(self, seconds: float) -> None:
        with self._lock:
            if abs(seconds - self.seconds) > 0.001:
                log.info("session timeout negotiated", extra={"session_timeout": seconds})
            self.seconds = seconds

    def _fallback(self) -> None:
        with self._lock:
            if self._warned:
                return
            self._warned = True
        log.warning(
            "cannot read the negotiated session timeout from kazoo; assuming the requested %.1fs "
            "(the lease is too long if the server clamped it down)",
            self.seconds,
        )
