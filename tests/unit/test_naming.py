"""Member names and their order, including the 32-bit sequence wrap."""

from __future__ import annotations

import random

import pytest

from zkleader.election.naming import election_order, member_prefix, new_participant_uid, parse_member

UID = "0123456789abcdef0123456789abcdef"


def name(sequence: int, uid: str = UID) -> str:
    """What ZooKeeper makes of a sequential create: ``%010d`` of a signed int."""
    return f"{member_prefix(uid)}{sequence:010d}"


def test_zookeeper_formats_negative_sequences_as_we_parse_them() -> None:
    assert name(-1).endswith("--000000001")
    assert name(-(2**31)).endswith("--2147483648")
    assert parse_member(name(-1)).sequence == -1  # type: ignore[union-attr]
    assert parse_member(name(-(2**31))).sequence == -(2**31)  # type: ignore[union-attr]
    assert parse_member(name(2**31 - 1)).sequence == 2**31 - 1  # type: ignore[union-attr]


@pytest.mark.parametrize("bad", ["lock-1", "member-xyz-0000000001", f"member-{UID}-12", f"member-{UID}-", ""])
def test_foreign_names_are_not_members(bad: str) -> None:
    assert parse_member(bad) is None
    assert election_order([bad]) == []


def test_order_is_numeric_not_lexical() -> None:
    names = [name(10), name(9), name(100)]
    assert [m.sequence for m in election_order(names)] == [9, 10, 100]


def test_order_survives_the_wrap_from_positive_to_negative() -> None:
    # Oldest first: the two nodes made just before the wrap, then those after it.
    oldest_first = [2**31 - 2, 2**31 - 1, -(2**31), -(2**31) + 1, -5, -1]
    # A string sort (the seed recipe, kazoo's Election) would elect a new node:
    assert sorted(name(s) for s in oldest_first)[0] != name(oldest_first[0])
    shuffled = oldest_first[:]
    random.Random(7).shuffle(shuffled)
    assert [m.sequence for m in election_order(name(s) for s in shuffled)] == oldest_first


def test_order_across_zero_after_a_full_wrap() -> None:
    oldest_first = [-3, -2, -1, 0, 1]
    assert [m.sequence for m in election_order(name(s) for s in reversed(oldest_first))] == oldest_first


def test_each_participant_uid_is_unique_and_part_of_its_names() -> None:
    uids = {new_participant_uid() for _ in range(1000)}
    assert len(uids) == 1000
    uid = uids.pop()
    assert parse_member(name(5, uid)).owner_uid == uid  # type: ignore[union-attr]
