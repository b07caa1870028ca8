"""ACLs for the election path.

ZooKeeper ACLs are per node and not inherited, and deleting a child is
checked against the *parent's* ACL. So the parent and every member node get
the same list: full rights for the configured digest user, read-only for
everyone else. Without credentials the nodes are open (and we say so).
"""

from __future__ import annotations

from dataclasses import dataclass

from kazoo.security import ACL, OPEN_ACL_UNSAFE, make_acl, make_digest_acl


@dataclass(frozen=True)
class DigestCredentials:
    """A ZooKeeper digest user. ``repr`` hides the password."""

    user: str
    password: str

    def __repr__(self) -> str:
        return f"DigestCredentials(user={self.user!r}, password='***')"

    def auth_data(self) -> list[tuple[str, str]]:
        """For ``KazooClient(auth_data=...)``."""
        return [("digest", f"{self.user}:{self.password}")]


def election_acl(credentials: DigestCredentials | None) -> list[ACL]:
    """The ACL for the election parent and its member nodes."""
    if credentials is None:
        return list(OPEN_ACL_UNSAFE)
    return [
        make_digest_acl(credentials.user, credentials.password, all=True),
        make_acl("world", "anyone", read=True),
    ]
