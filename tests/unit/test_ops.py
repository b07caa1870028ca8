"""The one driver (zkleader.cli.ops): the sole leader, the wait for one, a failover trial."""

from __future__ import annotations

from typing import Any

import pytest

from zkleader.cli.ops.compose import parse_rfc3339
from zkleader.cli.ops.leader import Leader, Views, sole_leader, wait_for_leader
from zkleader.cli.ops.trial import TrialFailed, failover_trial


def view(name: str, leader: str, epoch: int, *, is_leader: bool | None = None) -> dict[str, Any]:
    leading = name == leader if is_leader is None else is_leader
    return {
        "isLeader": leading,
        "instance": name,
        "state": "leader" if name == leader else "follower",
        "epoch": epoch,
        "leader": {"instance": leader, "address": f"http://{leader}:8000"},
    }


def agreed(leader: str, epoch: int, names: tuple[str, ...] = ("a", "b", "c")) -> dict[str, Any]:
    return {n: view(n, leader, epoch) for n in names}


def test_sole_leader_when_all_agree() -> None:
    assert sole_leader(agreed("b", 7)) == Leader("b", 7)
    assert sole_leader(agreed("b", 7), min_epoch=8) is None


@pytest.mark.parametrize(
    "change",
    [
        {"c": None},  # one does not answer
        {"c": view("c", "a", 7)},  # one follows someone else
        {"c": view("c", "b", 6)},  # one is behind on the epoch
        {"a": view("a", "b", 7, is_leader=True)},  # two say they lead
        {"b": view("b", "b", 7, is_leader=False)},  # the leader's lease ran out
    ],
)
def test_no_sole_leader_when_they_disagree(change: dict[str, Any]) -> None:
    assert sole_leader({**agreed("b", 7), **change}) is None
    assert sole_leader({}) is None


def test_wait_for_leader_polls_until_one_appears_or_gives_up() -> None:
    answers: list[Views] = [{"a": None, "b": None}, agreed("a", 1, ("a", "b")), agreed("b", 2, ("a", "b"))]
    polls: list[Views] = []
    found = wait_for_leader(
        lambda: answers.pop(0), timeout=5, interval=0.0, min_epoch=2, on_poll=lambda _, v: polls.append(v)
    )
    assert found is not None and found.leader == Leader("b", 2) and len(polls) == 3
    assert wait_for_leader(lambda: {"a": None}, timeout=0.1, interval=0.02) is None


class FakeStack:
    """Three instances whose leader moves to the next one when it is 'killed'."""

    def __init__(self) -> None:
        self.names = ["a", "b", "c"]
        self.leader, self.epoch, self.down = "a", 10, set[str]()
        self.log: list[str] = []

    def read(self, names: list[str]) -> Views:
        return {n: None if n in self.down else view(n, self.leader, self.epoch) for n in names}

    def kill(self, name: str) -> None:
        self.log.append(f"kill {name}")
        self.down.add(name)
        self.leader = next(n for n in self.names if n not in self.down)
        self.epoch += 5

    def start(self, name: str) -> None:
        self.log.append(f"start {name}")
        self.down.discard(name)


def test_one_failover_trial() -> None:
    stack = FakeStack()
    trial = failover_trial(stack.names, stack.read, stack.kill, stack.start, timeout=2, rejoin_timeout=2, interval=0.01)
    assert (trial.old_leader, trial.old_epoch, trial.new_leader, trial.new_epoch) == ("a", 10, "b", 15)
    assert trial.survivors == ["b", "c"] and stack.log == ["kill a", "start a"]
    assert trial.fault_at <= trial.seen_at <= trial.restored_at <= trial.rejoin_seen_at


def test_a_trial_without_a_successor_fails_and_says_why() -> None:
    stack = FakeStack()

    def kill_without_successor(name: str) -> None:
        stack.down.add(name)

    with pytest.raises(TrialFailed, match=r"no single leader among b c within 0\.2 s"):
        failover_trial(
            stack.names, stack.read, kill_without_successor, stack.start, timeout=0.2, rejoin_timeout=1, interval=0.01
        )


def test_a_trial_fails_when_leadership_moves_again_during_the_rejoin() -> None:
    stack = FakeStack()

    def start_and_move(name: str) -> None:
        stack.start(name)
        stack.leader, stack.epoch = "c", stack.epoch + 1

    with pytest.raises(TrialFailed, match="changed again during the rejoin: now c"):
        failover_trial(stack.names, stack.read, stack.kill, start_and_move, timeout=1, rejoin_timeout=1, interval=0.01)


def test_docker_timestamps() -> None:
    assert parse_rfc3339("2026-01-02T03:04:05.123456789Z") == pytest.approx(1767323045.123456789)
    assert parse_rfc3339("2026-01-02T04:04:05+01:00") == pytest.approx(1767323045.0)
    assert parse_rfc3339("0001-01-01T00:00:00Z") is None
    assert parse_rfc3339("yesterday") is None
