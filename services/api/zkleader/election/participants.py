"""The members of an election, read live (for operators and the switchover)."""

from __future__ import annotations

from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError

from .identity import Identity
from .naming import election_order
from .status import Participant


def read_participants(client: KazooClient, path: str, timeout: float) -> list[Participant]:
    """All members in election order; the first one leads (or is about to)."""
    members = election_order(client.get_children(path))
    pending = [(m, client.get_async(f"{path}/{m.name}")) for m in members]
    result: list[Participant] = []
    for member, pending_get in pending:
        try:
            data, _ = pending_get.get(timeout=timeout)
        except NoNodeError:
            continue
        who = Identity.from_bytes(data)
        result.append(
            Participant(
                instance=who.instance if who else None,
                address=who.address if who else None,
                sequence=member.sequence,
                node=member.name,
                is_leader=not result,
            )
        )
    return result
