"""Where observers register: ephemeral nodes beside the election.

An observer (``ELECTION_ROLE=observer``) never enrols in the election, so it
can never lead. It registers ``<election path>-observers/<instance>`` (its
identity as data, ephemeral to its session) so that operators and a
switchover request can tell "an observer" from "unknown" or "not enrolled".
"""

from __future__ import annotations

from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError

from .identity import Identity


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
