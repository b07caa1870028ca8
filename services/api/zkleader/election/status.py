"""What an election participant knows, as plain immutable values.

These are the only election types the web layer sees.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from .lease import now


class ElectionState(enum.StrEnum):
    """Where a participant stands.

    ``connecting``: no ZooKeeper session yet (start, or after expiry);
    ``suspended``: connection lost, the session may still live;
    ``follower`` / ``leader``: connected and enrolled; ``observer``:
    connected and watching the election, never enrolled (``ELECTION_ROLE=observer``);
    ``stopped``: closed.
    """

    CONNECTING = "connecting"
    SUSPENDED = "suspended"
    FOLLOWER = "follower"
    LEADER = "leader"
    OBSERVER = "observer"
    STOPPED = "stopped"


@dataclass(frozen=True)
class LeaderInfo:
    """The current leader as this participant last observed it."""

    instance: str
    address: str
    epoch: int


@dataclass(frozen=True)
class Participant:
    """One member node, in election order."""

    instance: str | None
    address: str | None
    sequence: int
    node: str
    is_leader: bool


@dataclass(frozen=True)
class Status:
    """A consistent snapshot of one participant's view.

    ``lease_deadline`` is on the lease clock (:func:`~.lease.now`); whether
    the participant may act as leader *now* is :meth:`is_leader_now`, never a
    stored bool, so a snapshot read after a freeze cannot claim leadership.

    Built here and encoded here only: :meth:`placeholder` for "no participant
    yet", :meth:`to_json` / :meth:`from_json` for the shared snapshot.
    """

    state: ElectionState
    instance: str
    epoch: int | None
    leader: LeaderInfo | None
    lease_deadline: float | None
    enrolled: bool
    node: str | None
    session_timeout: float
    reason: str | None = None
    transitions: int = 0
    last_election_at: float | None = None
    election_notifications: int = 0
    role: str = "candidate"
    """``candidate`` (may lead) or ``observer`` (never enrols)."""

    def is_leader_at(self, instant: float) -> bool:
        """Whether leading at ``instant`` of the lease clock."""
        return self.state is ElectionState.LEADER and self.lease_deadline is not None and instant < self.lease_deadline

    def is_leader_now(self) -> bool:
        return self.is_leader_at(now())

    @classmethod
    def placeholder(cls, instance: str, session_timeout: float, reason: str, role: str = "candidate") -> Status:
        """What to show while no participant runs (starting, or taking over)."""
        return cls(
            role=role,
            state=ElectionState.CONNECTING,
            instance=instance,
            epoch=None,
            leader=None,
            lease_deadline=None,
            enrolled=False,
            node=None,
            session_timeout=session_timeout,
            reason=reason,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "instance": self.instance,
            "epoch": self.epoch,
            "leader": None
            if self.leader is None
            else {"instance": self.leader.instance, "address": self.leader.address, "epoch": self.leader.epoch},
            "leaseDeadline": self.lease_deadline,
            "enrolled": self.enrolled,
            "node": self.node,
            "sessionTimeout": self.session_timeout,
            "reason": self.reason,
            "transitions": self.transitions,
            "lastElectionAt": self.last_election_at,
            "electionNotifications": self.election_notifications,
            "role": self.role,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Status:
        leader = raw.get("leader")
        info = None
        if leader is not None:
            info = LeaderInfo(str(leader["instance"]), str(leader["address"]), int(leader["epoch"]))
        return cls(
            state=ElectionState(raw["state"]),
            instance=str(raw["instance"]),
            epoch=raw["epoch"],
            leader=info,
            lease_deadline=raw["leaseDeadline"],
            enrolled=bool(raw["enrolled"]),
            node=raw["node"],
            session_timeout=float(raw["sessionTimeout"]),
            reason=raw["reason"],
            transitions=int(raw["transitions"]),
            last_election_at=raw["lastElectionAt"],
            election_notifications=int(raw["electionNotifications"]),
            role=str(raw.get("role", "candidate")),
        )


@dataclass(frozen=True)
class Liveness:
    """Whether the election worker makes progress (for a liveness probe).

    ``stalled_for``: seconds since the worker last made progress (finished a
    task, a timer or a ZooKeeper call; 0 when idle); ``limit``: how long that
    may last before the participant counts as wedged.
    """

    alive: bool
    stalled_for: float
    limit: float
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"alive": self.alive, "stalledFor": self.stalled_for, "limit": self.limit, "detail": self.detail}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Liveness:
        return cls(bool(raw["alive"]), float(raw["stalledFor"]), float(raw["limit"]), str(raw.get("detail", "")))
