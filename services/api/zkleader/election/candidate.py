"""The candidate algorithm, in one place: enrol, list (synced), check, decide.

Each participant owns an ephemeral sequential member node under the election
path; the lowest (oldest, wrap-aware: :func:`~.naming.election_order`)
member leads, and every other member watches only its predecessor. One check
(:meth:`Candidate.check`) is:

1. **No session, no session id.** ``client_id`` read while the connection
   drops is ``None``: that means "not connected" (wait for the connection
   listener), never session 0.
2. **Our node still ours?** A node created under an earlier session is lost
   (the session expired): forget it and look again.
3. **Enrol** if we have no node, with **create-retry protection**: node names
   carry the participant's uid; every attempt (kazoo retry, connection loss
   only) first syncs, lists and looks for our uid, so a ``create`` whose
   reply was lost is adopted instead of leaving an orphan behind (kazoo
   ``Lock``, Curator protected mode). The session is read per attempt.
4. **List, synced**: a ``sync`` goes out just ahead of the listing: ZooKeeper
   answers a session's requests in order, so the listing is not a lagging
   server's stale view, and the round trip that may start a lease has
   reached the ZooKeeper leader. Any other node carrying our uid (a lost
   create's) is deleted: nobody could ever lead on it.
5. **Lowest?** Then the **own-session check** (CURATOR-696): the node's
   ``ephemeralOwner`` must be this session, else we never lead on it. The
   decision is :data:`LEAD` with the epoch (the node's ``czxid``: zxids are
   totally ordered, so it strictly increases with every grant) and the
   instant the listing began (it starts the lease).
6. **Else follow**: watch the predecessor (and read the lowest member, to
   know the leader). A predecessor gone between listing and watching left
   no watch: look again.

The candidate never changes the participant's state: it returns a
:class:`Decision`, which the election applies (:mod:`.core`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from kazoo.client import KazooClient
from kazoo.exceptions import ConnectionLoss, NoNodeError
from kazoo.protocol.states import WatchedEvent, ZnodeStat
from kazoo.retry import KazooRetry
from kazoo.security import ACL

from .identity import Identity
from .lease import Clock
from .naming import MemberName, election_order, member_prefix
from .status import LeaderInfo
from .timings import ElectionTimings

log = logging.getLogger("zkleader.election")

Action = Literal["wait", "lost", "look-again", "lead", "follow"]
WAIT: Action = "wait"  # not connected: the connection listener queues a check when we are
LOST: Action = "lost"  # our node is gone or not this session's: forget it, look again now
LOOK_AGAIN: Action = "look-again"  # the predecessor vanished before we could watch it
LEAD: Action = "lead"  # lowest, and the node is this session's
FOLLOW: Action = "follow"  # watching the predecessor

Call = Callable[[Any], Any]
"""Waits for an async kazoo call, bounded (the worker's :meth:`~.worker.Worker.call`)."""


@dataclass(frozen=True)
class Decision:
    """What one check found. ``node``/``node_stat``: our node after the check
    (enrolled by it, possibly); ``why``: for LOST and LOOK_AGAIN."""

    action: Action
    node: str | None
    node_stat: ZnodeStat | None
    why: str = ""
    epoch: int | None = None  # LEAD: our node's czxid
    started: float = 0.0  # LEAD: when the listing that showed us lowest began
    members: list[MemberName] = field(default_factory=list)  # LEAD: that listing
    leader: LeaderInfo | None = None  # FOLLOW: the lowest member, as read


def session_of(client: KazooClient) -> int | None:
    """Our session id, or ``None`` when not connected. A connection that drops
    between two reads leaves ``client_id`` empty: that is never a session (id
    0 would make our own node look foreign)."""
    if not client.connected:
        return None
    client_id = client.client_id
    if not client_id or not client_id[0]:
        return None
    return int(client_id[0])


class Candidate:
    """One participant's side of the election algorithm (worker thread only)."""

    def __init__(
        self,
        client: KazooClient,
        path: str,
        uid: str,
        identity: Identity,
        acl: list[ACL],
        timings: ElectionTimings,
        call: Call,
        clock: Clock,
        on_predecessor: Callable[[WatchedEvent], None],
    ) -> None:
        self._client = client
        self._path = path
        self._uid = uid
        self._identity = identity
        self._acl = acl
        self._timings = timings
        self._call = call
        self._clock = clock
        self._on_predecessor = on_predecessor
        self.watched: str | None = None
        """The predecessor we watch (a watch left on an older one is stale)."""

    def child_path(self, name: str | None) -> str:
        return f"{self._path}/{name}"

    def check(self, node: str | None, node_stat: ZnodeStat | None) -> Decision:
        """One leadership check, from our current node (``None``: not enrolled)."""
        session = session_of(self._client)
        if session is None:
            return Decision(WAIT, node, node_stat)
        if node_stat is not None and node_stat.ephemeralOwner != session:
            return Decision(LOST, None, None, why="session expired")
        if node is None or node_stat is None:
            node, node_stat = self._enrol()
            session = session_of(self._client)
            if session is None:
                return Decision(WAIT, node, node_stat)
        # One round trip, as in the textbook recipe: our node's owner and czxid
        # are known from its create, and the listing shows it still exists.
        started = self._clock()
        members = self.delete_strays(self.synced_members(), node)
        position = next((i for i, m in enumerate(members) if m.name == node), None)
        if position is None:
            return Decision(LOST, None, None, why="member node deleted")
        if position == 0:
            if node_stat.ephemeralOwner != session:
                # Not ours after all: never lead on someone else's node.
                return Decision(LOST, None, None, why="lowest node owned by another session")
            return Decision(LEAD, node, node_stat, epoch=node_stat.czxid, started=started, members=members)
        return self._follow(node, node_stat, members[position - 1], members[0])

    def _follow(self, node: str, node_stat: ZnodeStat, predecessor: MemberName, lowest: MemberName) -> Decision:
        pending_leader = None if lowest == predecessor else self._client.get_async(self.child_path(lowest.name))
        try:
            data, stat = self._call(
                self._client.get_async(self.child_path(predecessor.name), watch=self._on_predecessor)
            )
            if pending_leader is not None:
                data, stat = self._call(pending_leader)
        except NoNodeError:
            # Gone between listing and watching: no watch was left; look again now.
            return Decision(LOOK_AGAIN, node, node_stat, why="predecessor vanished")
        self.watched = predecessor.name
        who = Identity.from_bytes(data)
        leader = None if who is None else LeaderInfo(who.instance, who.address, stat.czxid)
        return Decision(FOLLOW, node, node_stat, leader=leader)

    # ------------------------------------------------------------ enrolment

    def _enrol(self) -> tuple[str, ZnodeStat]:
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
        node, stat = retry(self._find_or_create)
        log.info("enrolled", extra={"node": node})
        return node, stat

    def _find_or_create(self) -> tuple[str, ZnodeStat]:
        # The session is read per attempt: a retry may run under a new one.
        session = session_of(self._client)
        if session is None:
            raise ConnectionLoss("not connected")
        # Synced, so that a create whose reply was lost shows here even if we
        # reconnected to a server that had not applied it yet.
        for member in self.synced_members():
            if member.owner_uid != self._uid:
                continue
            try:
                _, stat = self._call(self._client.get_async(self.child_path(member.name)))
            except NoNodeError:
                continue
            if stat.ephemeralOwner == session:
                log.info("adopted own node after an interrupted create", extra={"node": member.name})
                return member.name, stat
        created, stat = self._call(
            self._client.create_async(
                self.child_path(member_prefix(self._uid)),
                self._identity.to_bytes(),
                acl=self._acl,
                ephemeral=True,
                sequence=True,
                include_data=True,  # CREATE2: the new node's stat (owner, czxid) in the same reply
            )
        )
        return str(created).rsplit("/", 1)[1], stat

    # -------------------------------------------------------------- listing

    def synced_members(self) -> list[MemberName]:
        pending_sync = self._client.sync_async(self._path)
        pending_members = self._client.get_children_async(self._path)
        self._call(pending_sync)
        return election_order(self._call(pending_members))

    def delete_strays(self, members: list[MemberName], node: str | None) -> list[MemberName]:
        """Delete member nodes of ours other than ``node`` (left by a create
        whose reply was lost): nobody could ever lead on them, and one ahead
        of us would block the election."""
        strays = [m for m in members if m.owner_uid == self._uid and m.name != node]
        if not strays:
            return members
        pending = [(m, self._client.delete_async(self.child_path(m.name))) for m in strays]
        for member, pending_delete in pending:
            with contextlib.suppress(NoNodeError):
                self._call(pending_delete)
            log.warning("deleted a stray member node of ours", extra={"node": member.name})
        return [m for m in members if m not in strays]

    def delete(self, node: str | None) -> None:
        """Delete our node (a hand-over: the successor is notified at once)."""
        if node is not None:
            with contextlib.suppress(NoNodeError):
                self._call(self._client.delete_async(self.child_path(node)))
