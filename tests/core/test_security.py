"""With digest credentials, nobody else can create or delete under the election path."""

from __future__ import annotations

import pytest
from kazoo.exceptions import NoAuthError
from kazoo.security import OPEN_ACL_UNSAFE

from tests.support.waiting import expect
from zkleader.election import DigestCredentials, election_acl

from .conftest import Participants, eventually, single_leader

pytestmark = pytest.mark.zookeeper

CREDENTIALS = DigestCredentials("zkleader", "test-password")


def test_a_client_without_credentials_can_read_but_not_create_or_delete(
    participants: Participants, election_path: str
) -> None:
    def secured(name: str):  # type: ignore[no-untyped-def]
        client = participants.client(auth_data=CREDENTIALS.auth_data())
        return participants.start(election_path, name, client=client, acl=election_acl(CREDENTIALS))

    group = [secured("a"), secured("b")]
    leader = eventually(lambda: single_leader(group))
    leader_node = f"{election_path}/{leader.status.node}"

    stranger = participants.client()
    stranger.start()
    try:
        assert len(stranger.get_children(election_path)) == 2  # reading stays open
        with pytest.raises(NoAuthError):
            stranger.delete(leader_node)
        with pytest.raises(NoAuthError):
            stranger.create(f"{election_path}/member-{'0' * 32}-", b"fake", ephemeral=True, sequence=True)
        with pytest.raises(NoAuthError):
            stranger.set(election_path, b'{"instance":"mallory","address":"x","epoch":999999999999}')
        with pytest.raises(NoAuthError):
            stranger.set_acls(leader_node, OPEN_ACL_UNSAFE)
    finally:
        stranger.stop()
        stranger.close()
    assert single_leader(group) is leader

    # The same client with the credentials may act.
    friend = participants.client(auth_data=CREDENTIALS.auth_data())
    friend.start()
    try:
        friend.delete(leader_node)
    finally:
        friend.stop()
        friend.close()
    eventually(lambda: single_leader(group) is not leader or expect(False))
