"""Names of election znodes and their order.

A member node is named ``member-<uuid>-<sequence>``: ZooKeeper appends the
sequence, and the uuid (one per participant) lets a participant recognise its
own node after a ``create`` whose reply was lost (create-retry protection).

ZooKeeper's sequence is the parent's signed 32-bit ``cversion`` printed with
``%010d``; after 2**31 - 1 it wraps to negative numbers (``-2147483648``,
then up to ``-000000001``). The parent's cversion grows with every create
and delete of a child, so a busy election path really can get there. Sorting the names as
strings (the seed recipe, kazoo's ``Election``) then puts ``-2147483648``
first and elects the newest node. We order by serial-number arithmetic
(RFC 1982) instead: live members always span far less than half of the
2**32 circle, so the member that follows the largest gap on the circle is
the oldest.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

MEMBER_PREFIX = "member-"
_MEMBER_RE = re.compile(r"^member-(?P<owner>[0-9a-f]{32})-(?P<seq>\d{10}|-\d{9,10})$")
_CIRCLE = 2**32


def election_path(path: object) -> str:
    """``path`` if it can be an election path (absolute, no empty, ``.`` or
    ``..`` component, no NUL), else ``TypeError``/``ValueError`` saying why:
    checked once, when an election is made, rather than failing later inside
    a ZooKeeper call on the worker thread."""
    if not isinstance(path, str):
        raise TypeError(f"path must be a str, not {type(path).__name__}")
    if not path.startswith("/") or path == "/" or path.endswith("/") or "//" in path or "\x00" in path:
        raise ValueError(f"path must be an absolute znode path such as '/app/leader', not {path!r}")
    if any(part in (".", "..") for part in path.split("/")):
        raise ValueError(f"path must not contain '.' or '..' components: {path!r}")
    return path


def new_participant_uid() -> str:
    """A fresh id that makes this participant's node names unique to it."""
    return uuid.uuid4().hex


def member_prefix(participant_uid: str) -> str:
    """The name prefix passed to a sequential ``create``."""
    return f"{MEMBER_PREFIX}{participant_uid}-"


@dataclass(frozen=True, order=False)
class MemberName:
    """A parsed member node name."""

    name: str
    owner_uid: str
    sequence: int

    @property
    def unsigned_sequence(self) -> int:
        """The sequence as a position on the 2**32 circle."""
        return self.sequence % _CIRCLE


def parse_member(name: str) -> MemberName | None:
    """Parse a child name; ``None`` for anything that is not a member node."""
    match = _MEMBER_RE.match(name)
    if match is None:
        return None
    return MemberName(name=name, owner_uid=match["owner"], sequence=int(match["seq"]))


def election_order(names: Iterable[str]) -> list[MemberName]:
    """Members in election order (oldest first), wrap-aware; foreign names dropped."""
    members = sorted(
        (m for m in map(parse_member, names) if m is not None),
        key=lambda m: m.unsigned_sequence,
    )
    if len(members) < 2:
        return members
    # The oldest member is the one after the widest gap between neighbours on
    # the circle (the gap from the last back to the first included).
    start = 0
    widest = (members[0].unsigned_sequence - members[-1].unsigned_sequence) % _CIRCLE
    for i in range(1, len(members)):
        gap = members[i].unsigned_sequence - members[i - 1].unsigned_sequence
        if gap > widest:
            widest, start = gap, i
    return members[start:] + members[:start]
