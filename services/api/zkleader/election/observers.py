"""Where observers register: ephemeral nodes beside the election.

An observer (``ELECTION_ROLE=observer``) never enrols in the election, so it
can never lead. It registers ``<election path>-observers/<instance>`` (its
identity as data, ephemeral to its session) so that operators and a
switchover request can tell "an observer" from "unknown" or "not enrolled".
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

from kazoo.client import KazooClient
from kazoo.exceptions import NodeExistsError, NoNodeError
from kazoo.protocol.states import WatchedEvent
from kazoo.security import ACL

from .identity import Identity
from .naming import election_order
from .status import LeaderInfo

log = logging.getLogger("zkleader.election")


def observers_path(election_path: str) -> str:
    """Beside the election (never under it, where every child is a member)."""
    return f"{election_path}-observers"


def registered_observers(client: KazooClient, election_path: str, timeout: float) -> list[Identity]:
    """Every registered observer, by instance name; none when nobody registered yet."""
    parent = observers_path(election_path)
    try:
        names = sorted(client.get_children(parent))
    except NoNodeError:
        return []
    pending = [client.get_async(f"{parent}/{name}") for name in names]
    found: list[Identity] = []
    for reply in pending:
        try:
            data, _ = reply.get(timeout=timeout)
        except NoNodeError:
            continue
        who = Identity.from_bytes(data)
        if who is not None:
            found.append(who)
    return found


class Observer:
    """The observer role: stay registered, know the leader from the members.

    Worker thread only. :meth:`observe` re-registers after a new session,
    lists the members (synced, watched: ``on_members`` fires on a change) and
    reads the lowest one, which leads or is about to: what followers report."""

    def __init__(
        self,
        client: KazooClient,
        path: str,
        identity: Identity,
        acl: list[ACL],
        call: Callable[[Any], Any],
        on_members: Callable[[WatchedEvent], None],
    ) -> None:
        self._client = client
        self._path = path
        self._identity = identity
        self._acl = acl
        self._call = call
        self._on_members = on_members
        self._registered: tuple[str, int] | None = None  # (registration path, session)

    def observe(self, session: int) -> tuple[bool, LeaderInfo | None]:
        """``(False, None)`` when the lowest member vanished meanwhile: look again."""
        self._register(session)
        pending_sync = self._client.sync_async(self._path)
        self._call(self._client.ensure_path_async(self._path, acl=self._acl))
        pending_members = self._client.get_children_async(self._path, watch=self._on_members)
        self._call(pending_sync)
        members = election_order(self._call(pending_members))
        if not members:
            return True, None
        try:
            data, stat = self._call(self._client.get_async(f"{self._path}/{members[0].name}"))
        except NoNodeError:
            return False, None
        who = Identity.from_bytes(data)
        return True, None if who is None else LeaderInfo(who.instance, who.address, stat.czxid)

    def _register(self, session: int) -> None:
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

    def unregister(self, call: Callable[[Any], Any] | None = None) -> None:
        """Delete our registration (on close: the caller's session lives on).
        ``call``: how to wait (default: the worker's bounded call)."""
        registered, self._registered = self._registered, None
        if registered is None:
            return
        with contextlib.suppress(NoNodeError):
            (call or self._call)(self._client.delete_async(registered[0]))

    @property
    def registration(self) -> str | None:
        return None if self._registered is None else self._registered[0]
