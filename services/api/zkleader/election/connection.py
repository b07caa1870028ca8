"""The election's connection listener (kazoo's event thread).

kazoo calls it on every connection state change, from its connection thread;
it must not block and never calls ZooKeeper. A suspended or lost connection
ends leadership here and now (:meth:`~.state.ParticipantState.connection_dropped`:
the lease goes, so no round trip begun before can renew it, and observers
are told at once, even while the worker is blocked in a call; Curator's
default, avoiding the CURATOR-460 overlap). CONNECTED learns the negotiated
session timeout (:mod:`.compat`). The worker then does the rest (callbacks,
re-check with the same node, or re-enrolment after expiry) in its turn.

The listener is the election's own: :meth:`ConnectionListener.attach` adds
it to the caller's client, :meth:`ConnectionListener.detach` removes it, and
nothing else of the client is touched (the caller starts and stops it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kazoo.client import KazooClient, KazooState

from .compat import NegotiatedTimeout
from .state import ParticipantState
from .worker import Kind


class ConnectionListener:
    def __init__(
        self,
        client: KazooClient,
        state: ParticipantState,
        timeout: NegotiatedTimeout,
        put: Callable[[Kind, Any], None],
    ) -> None:
        self._client = client
        self._state = state
        self._timeout = timeout
        self._put = put

    def __call__(self, state: KazooState) -> None:
        if state == KazooState.CONNECTED:
            self._timeout.learn_in_listener()
            self._state.connection_restored()
        else:
            self._state.connection_dropped()
        self._put(Kind.CONNECTION, state)

    def attach(self) -> None:
        """Listen from now on; a client connected already has its T read now."""
        self._client.add_listener(self)
        if self._client.connected:
            self._timeout.learn_from_connection_thread()

    def detach(self) -> None:
        self._client.remove_listener(self)
