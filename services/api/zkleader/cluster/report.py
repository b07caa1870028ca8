"""What one instance sees of the whole cluster, as plain immutable values.

Filled in by the peer poller of the participant's process (each member's own
``/leader`` next to the ZooKeeper membership) and by the cluster term log;
read by the web layer. Times are Unix seconds (wall clock), so that reports
of different instances can be compared.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .. import Participant, Status, lease_clock


@dataclass(frozen=True)
class MemberReport:
    """One instance as this one sees it: ZooKeeper's view next to its own word.

    ``in_election``/``zk_leader``: its member node in the latest listing, and
    whether that node was the lowest. ``reachable``: it answered ``/leader``
    in time; the ``reported_*`` fields are that answer (None when it did not).
    """

    instance: str
    address: str
    in_election: bool
    zk_leader: bool
    reachable: bool
    is_self: bool = False
    reported_is_leader: bool | None = None
    reported_state: str | None = None
    reported_epoch: int | None = None
    reported_leader: str | None = None
    lease_left: float | None = None
    error: str | None = None
    checked_at: float | None = None


def listed_member(instance: str, address: str, listed: Participant | None, now: float) -> MemberReport:
    """A member as the latest listing shows it, before its own word is known."""
    return MemberReport(
        instance=instance,
        address=address,
        in_election=listed is not None,
        zk_leader=bool(listed and listed.is_leader),
        reachable=False,
        checked_at=now,
    )


def own_member_report(
    instance: str, address: str, status: Status, listed: Participant | None, now: float
) -> MemberReport:
    """This instance's own row: its status read now (``isLeader`` with the lease
    checked at this moment) next to its member node in the latest listing."""
    monotonic = lease_clock()  # the clock lease deadlines are on
    is_leader = status.is_leader_at(monotonic)
    return replace(
        listed_member(instance, address, listed, now),
        reachable=True,
        is_self=True,
        reported_is_leader=is_leader,
        reported_state=status.state.value,
        reported_epoch=status.epoch,
        reported_leader=None if status.leader is None else status.leader.instance,
        lease_left=None if status.lease_deadline is None or not is_leader else status.lease_deadline - monotonic,
    )


@dataclass(frozen=True)
class ClusterTerm:
    """One grant in the cluster-wide term log; ``ended_at`` is set only when
    the same instance ended its term cleanly (resign or close)."""

    epoch: int
    instance: str
    address: str
    elected_at: float
    ended_at: float | None = None
    reason: str | None = None


@dataclass(frozen=True)
class GapHistogram:
    """Leaderless gaps this instance observed: cumulative counts per upper bound."""

    bounds: tuple[float, ...]
    counts: tuple[int, ...]
    total: float = 0.0
    count: int = 0


@dataclass(frozen=True)
class ClusterReport:
    """One poll round of the peer poller."""

    observer: str
    polled_at: float
    zookeeper_error: str | None
    listed_at: float | None
    participants: list[Participant]
    members: list[MemberReport]
    gaps: GapHistogram
    leaderless_since: float | None = None
    terms: list[ClusterTerm] = field(default_factory=list)
    terms_error: str | None = None

    @property
    def claimants(self) -> list[str]:
        """Instances that say they lead right now (more than one: split brain)."""
        return [m.instance for m in self.members if m.reported_is_leader]
