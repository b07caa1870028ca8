"""The switchover gate: consulted by the lowest member before it leads.

The lowest member judges the switchover designation (:mod:`.switchover`)
before it leads, and the leader watches it (``on_event``): a member other
than the designated candidate steps aside (deletes its node and re-enrols at
the tail) instead of leading, so only the candidate can lead next, wherever
it stands in the queue. A stale designation is deleted (version-checked) and
we lead; one naming us is deleted once we lead (:meth:`SwitchoverGate.led`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, NoNodeError
from kazoo.protocol.states import WatchedEvent

from .lease import Clock
from .naming import MemberName
from .switchover import Designation, FirstSeen, Verdict, designation_path, judge

log = logging.getLogger("zkleader.election")


class SwitchoverGate:
    """Worker thread only."""

    def __init__(
        self,
        client: KazooClient,
        election_path: str,
        call: Callable[[Any], Any],
        clock: Clock,
        on_event: Callable[[WatchedEvent], None],
    ) -> None:
        self._client = client
        self._path = designation_path(election_path)
        self._call = call
        self._clock = clock
        self._on_event = on_event
        self._seen = FirstSeen()
        self._pending: int | None = None  # version of a designation naming us

    def permits(self, own_node: str, members: list[MemberName]) -> bool:
        """Lowest member only: may we lead? False: step aside for the candidate."""
        self._pending = None
        # Both in one round trip: `exists` arms the watch (a `get` on an absent
        # node would leave none), the `get` reads the data if there is any.
        pending_exists = self._client.exists_async(self._path, watch=self._on_event)
        pending_get = self._client.get_async(self._path)
        self._call(pending_exists)
        try:
            data, stat = self._call(pending_get)
        except NoNodeError:
            return True
        designation = Designation.from_bytes(data)
        elapsed = self._seen.elapsed(stat.czxid, self._clock())
        verdict: Verdict = (
            "stale" if designation is None else judge(designation, elapsed, own_node, {m.name for m in members})
        )
        if verdict == "yield":
            assert designation is not None
            log.info(
                "stepping aside for a switchover",
                extra={"candidate": designation.candidate_instance, "requested_by": designation.requested_by},
            )
            return False
        if verdict == "stale":
            log.info("deleting a stale switchover designation", extra={"designation": data.decode(errors="replace")})
            self._delete(stat.version)
        else:
            self._pending = stat.version  # names us: cleared once we lead
        return True

    def led(self) -> None:
        """After leading: the switchover that named us is done; clear it for the next one."""
        if self._pending is not None:
            self._delete(self._pending)
            self._pending = None

    def _delete(self, version: int) -> None:
        """Version-checked: never deletes a newer request."""
        with contextlib.suppress(NoNodeError, BadVersionError):
            self._call(self._client.delete_async(self._path, version=version))
