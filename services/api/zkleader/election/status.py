"""What an election participant knows, as plain immutable values.

These are the only election types the web layer sees.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ElectionState(enum.StrEnum):
    """Where a participant stands.

    ``connecting``: no ZooKeeper session yet (start, or after expiry);
    ``suspended``: connection lost, the session may still live;
    ``follower`` / ``leader``: connected and enrolled; ``stopped``: closed.
    """

    CONNECTING = "connecting"
    SUSPENDED = "suspended"
    FOLLOWER = "follower"
    LEADER = "leader"
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

    ``lease_deadline`` is on the monotonic clock; whether the participant may
    act as leader *now* is ``Status.is_leader_at(now)``, never a stored bool,
    so a snapshot read after a freeze cannot claim leadership.
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

    def is_leader_at(self, monotonic_now: float) -> bool:
        return (
            self.state is ElectionState.LEADER
            and self.lease_deadline is not None
            and monotonic_now < self.lease_deadline
        )
