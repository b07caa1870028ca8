"""What a leader-only write checks in its own ZooKeeper transaction."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fence:
    """The leader's own member node and the epoch of its grant.

    A leader-only write puts ``check(member_path)`` into the same transaction
    as the write: once the leader's session is gone its node is gone, and a
    node of that name can never come back (sequence numbers never repeat), so
    a deposed leader's write cannot commit whatever its clock says.
    """

    member_path: str
    epoch: int
