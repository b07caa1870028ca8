"""Switchover to a named candidate: the designation znode and what it means.

A switchover request is one ephemeral znode beside the election,
``<election path>-switchover``, holding :class:`Designation` (the candidate's
member node and instance, who asked, how long it may stand). Creating it *is*
the request, so a second request meets ``NodeExists`` (409). It is ephemeral
to the requesting participant's session: a requester that dies takes its
request with it.

Every participant that finds itself lowest judges the designation before it
leads (:func:`judge`): it leads when there is none, when it names this very
node, or when it is stale (the candidate's node is gone, the data is not
ours, or it stood longer than its duration); it *yields* (deletes its node and
re-enrols at the tail) when it names another member whose node still exists.
The leader keeps a watch on the designation and judges it the same way, so a
request makes it step aside at once. Nobody but the candidate can lead while a
valid designation stands, whatever the candidate's place in the queue.

The duration is judged on the reader's own monotonic clock, from the moment
it first saw this designation (keyed by its ``czxid``): no two machines'
clocks are ever compared, and a reader that saw it late only waits longer,
never shorter, than the duration after its creation. See docs/switchover.md.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, cast

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, NodeExistsError, NoNodeError
from kazoo.protocol.states import ZnodeStat
from kazoo.retry import KazooRetry
from kazoo.security import ACL

from .identity import Identity
from .status import Participant

log = logging.getLogger("zkleader.switchover")

Verdict = Literal["lead", "yield", "stale"]
"""``lead``: nothing stands in the way (the designation, if any, names us);
``yield``: another member is designated; ``stale``: delete it, then lead."""


def designation_path(election_path: str) -> str:
    """Beside the election (never under it, where every child is a member)."""
    return f"{election_path}-switchover"


@dataclass(frozen=True)
class Designation:
    """A standing switchover request."""

    candidate_node: str
    candidate_instance: str
    requested_by: str
    duration: float
    """Seconds the request may stand, on each reader's own clock."""

    def to_bytes(self) -> bytes:
        raw = {
            "candidateNode": self.candidate_node,
            "candidate": self.candidate_instance,
            "requestedBy": self.requested_by,
            "durationSeconds": self.duration,
        }
        return json.dumps(raw, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes | None) -> Designation | None:
        """``None`` when the data is not a designation we wrote."""
        try:
            raw = json.loads(data or b"")
            designation = cls(
                str(raw["candidateNode"]), str(raw["candidate"]), str(raw["requestedBy"]), float(raw["durationSeconds"])
            )
        except (ValueError, KeyError, TypeError):
            return None
        return designation if designation.duration > 0 else None


class FirstSeen:
    """When this reader first saw each designation (by ``czxid``), on its own clock."""

    def __init__(self) -> None:
        self._czxid: int | None = None
        self._since = 0.0

    def elapsed(self, czxid: int, now: float) -> float:
        if czxid != self._czxid:
            self._czxid, self._since = czxid, now
        return now - self._since


def judge(designation: Designation | None, elapsed: float, own_node: str, members: set[str]) -> Verdict:
    """What the lowest member does about the designation it just read.

    ``designation``: ``None`` when there is none; ``elapsed``: seconds since
    this reader first saw it; ``members``: the member node names of the
    listing that showed us lowest. (Unreadable data is stale: the caller's.)"""
    if designation is None:
        return "lead"
    if designation.candidate_node == own_node:
        return "lead"
    if designation.candidate_node not in members or elapsed > designation.duration:
        return "stale"
    return "yield"


# ------------------------------------------------------------ the request


@dataclass(frozen=True)
class SwitchoverResult:
    """How a request ended. ``outcome``: ``done`` (the candidate leads, the old
    leader does not: ``detail`` says who and with which epochs),
    ``not-eligible``, ``busy`` (another one is running), ``no-leader`` (nothing
    to hand over), ``not-completed`` (given up and withdrawn). ``message`` is
    for people."""

    outcome: str
    message: str
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "message": self.message, "detail": self.detail}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> SwitchoverResult:
        return cls(str(raw["outcome"]), str(raw["message"]), dict(raw.get("detail") or {}))


class SwitchoverRefused(Exception):
    """The request was refused before anything was written.

    ``kind``: ``not-eligible`` (HTTP 412), ``busy`` (409: one is running),
    ``no-leader`` (503: nobody to hand over from)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Requested:
    """A designation this requester created, and what it replaces."""

    designation: Designation
    version: int
    previous_instance: str
    previous_address: str
    previous_epoch: int
    candidate_address: str


class Election(Protocol):
    """What a requester needs of the election (:class:`~.core.LeaderElection`)."""

    @property
    def path(self) -> str: ...

    @property
    def client(self) -> KazooClient: ...

    @property
    def acl(self) -> list[ACL]: ...

    def participants(self) -> list[Participant]: ...

    def observers(self) -> list[Identity]: ...


class SwitchoverRequester:
    """Creates and withdraws designations for one participant's session.

    Runs on the caller's thread (the control socket's), never on the
    election worker: only a create and a delete, both bounded."""

    def __init__(self, election: Election, timeout: float) -> None:
        self._election = election
        self._client = election.client
        self._path = designation_path(election.path)
        self._timeout = timeout

    def request(
        self, candidate: str, requested_by: str, duration: float, known: Callable[[], set[str]] = set
    ) -> Requested:
        """Designate ``candidate`` (an instance name), or raise :class:`SwitchoverRefused`.

        ``known``: instance names seen before (terms, peers), to tell "not
        enrolled right now" from "unknown"; asked only for a name that is not
        a member (it may read the term log)."""
        # A running switchover first: while it runs, members step aside and
        # re-enrol, so judging eligibility now would give a transient answer.
        if self._client.exists(self._path) is not None:
            raise SwitchoverRefused("busy", "a switchover is already running")
        members = self._election.participants()
        named = [p for p in members if p.instance == candidate]
        if not named:
            if any(o.instance == candidate for o in self._election.observers()):
                raise SwitchoverRefused("not-eligible", f"{candidate} is an observer: it never leads")
            if candidate in known():
                raise SwitchoverRefused("not-eligible", f"{candidate} is not enrolled in the election right now")
            raise SwitchoverRefused("not-eligible", f"{candidate} is unknown: no such member")
        leader = members[0]
        if leader.instance is None or leader.address is None:
            raise SwitchoverRefused("no-leader", "the lowest member is not one of ours: nothing to hand over")
        if named[0].is_leader:
            raise SwitchoverRefused("not-eligible", f"{candidate} is already the leader")
        if len(named) > 1:
            # One live participant per instance: the older nodes are a dead
            # process's, kept until its session expires. Whichever node were
            # designated, that dead node stands ahead of the live one, and
            # everyone stepping aside for the candidate would leave it lowest:
            # nobody would lead until the session expires.
            raise SwitchoverRefused(
                "not-eligible",
                f"{candidate} is re-enrolling: a node of its previous process stays in the election until that "
                "session expires (at most one session timeout); try again then",
            )
        try:
            _, leader_stat = self._client.get(f"{self._election.path}/{leader.node}")
        except NoNodeError:
            raise SwitchoverRefused("no-leader", f"the leader {leader.instance} just left: try again") from None
        designation = Designation(named[0].node, candidate, requested_by, duration)
        retry = KazooRetry(max_tries=3, delay=0.1, backoff=2, max_delay=1.0, ignore_expire=False)
        stat = retry(self._find_or_create, designation.to_bytes())
        return Requested(
            designation, stat.version, leader.instance, leader.address, leader_stat.czxid, named[0].address or ""
        )

    def _find_or_create(self, data: bytes) -> ZnodeStat:
        """Create the designation, or recognise it as ours: a create whose reply
        was lost has happened, and its retry meets our own node (ephemeral to
        our session, holding our bytes), as the election adopts its member node.
        Anyone else's is a running switchover; one gone meanwhile, create again."""
        for _ in range(3):
            try:
                _, stat = self._client.create(
                    self._path, data, acl=self._election.acl, ephemeral=True, include_data=True
                )
                return cast(ZnodeStat, stat)
            except NodeExistsError:
                pass
            client_id = self._client.client_id
            try:
                self._client.sync(self._path)
                found, stat = self._client.get(self._path)
            except NoNodeError:
                continue
            if client_id and client_id[0] and stat.ephemeralOwner == client_id[0] and found == data:
                log.info("recognised our own switchover designation after a lost reply")
                return cast(ZnodeStat, stat)
            break
        raise SwitchoverRefused("busy", "a switchover is already running")

    def withdraw(self, requested: Requested) -> bool:
        """Delete our designation if it still stands (version-checked); True if it did."""
        try:
            self._client.delete(self._path, version=requested.version)
        except (NoNodeError, BadVersionError):
            return False
        return True


def switchover_wait(session_timeout: float) -> float:
    """How long a request waits for the candidate to lead before giving up:
    a hand-over takes a few round trips, but a candidate whose connection is
    suspended needs up to a session timeout to come back."""
    return max(5.0, 2 * session_timeout)


def designation_duration(session_timeout: float) -> float:
    """How long a designation may stand on a reader's clock: longer than the
    requester waits (it deletes its own on giving up), so expiry is only the
    last resort for a requester that could not."""
    return switchover_wait(session_timeout) + session_timeout
