"""The journal rules on small hand-made histories: each rule kept, and broken."""

from __future__ import annotations

import json
from typing import Any

import pytest

from zkleader.testing.check import Malformed, Verdict, journal

E = dict[str, Any]


def invoke(process: str, f: str, t: float, value: Any = None) -> E:
    return {"process": process, "type": "invoke", "f": f, "value": value, "time": t}


def append(process: str, message: str, start: float, end: float | None, outcome: str = "ok", **placed: int) -> list[E]:
    """An append from ``start`` to ``end`` (None: never completed)."""
    events = [invoke(process, "append", start, message)]
    if end is not None:
        events.append({"process": process, "type": outcome, "f": "append", "value": message, "time": end, **placed})
    return events


def read(process: str, start: float, end: float, *entries: tuple[int, int, str]) -> list[E]:
    value = [{"seq": s, "epoch": e, "message": m} for s, e, m in entries]
    return [
        invoke(process, "read", start),
        {"process": process, "type": "ok", "f": "read", "value": value, "time": end},
    ]


def check(*groups: list[E]) -> Verdict:
    lines = [json.dumps(e) for group in groups for e in group]
    return journal.check(*journal.parse(lines))


def ok(*groups: list[E]) -> None:
    verdict = check(*groups)
    assert verdict.linearizable, verdict.explanation


def broken(rule: str, *groups: list[E]) -> None:
    verdict = check(*groups)
    assert not verdict.linearizable
    assert any(rule in line for line in verdict.explanation), verdict.explanation


A, B = (1, 1, "a"), (2, 1, "b")


def test_a_plain_history_is_legal() -> None:
    ok(append("w", "a", 0, 1, seq=1, epoch=1), append("w", "b", 2, 3, seq=2, epoch=1), read("r", 4, 5, A, B))


def test_every_acknowledged_append_appears() -> None:
    broken("does not show it", append("w", "a", 0, 1), read("r", 2, 3))
    broken("does not show it", append("w", "a", 0, 1, seq=1, epoch=1), read("r", 2, 3))


def test_every_acknowledged_append_appears_only_once() -> None:
    broken("twice", append("w", "a", 0, 1), read("r", 2, 3, A, (2, 1, "a")))


def test_an_acknowledged_append_is_where_its_answer_said() -> None:
    broken("has Entry", append("w", "a", 0, 1, seq=2, epoch=1), read("r", 2, 3, (1, 1, "x"), (2, 1, "y")))
    broken("same seq", append("w", "a", 0, 1, seq=1, epoch=1), append("v", "b", 0, 1, seq=1, epoch=1))


def test_no_failed_append_appears() -> None:
    ok(append("w", "a", 0, 1, "fail"), read("r", 2, 3))
    broken("failed", append("w", "a", 0, 1, "fail"), read("r", 2, 3, A))


def test_an_unknown_append_appears_at_most_once_at_any_time_after_its_call() -> None:
    for outcome_end in (None, 1.0):
        unknown = append("w", "a", 0, outcome_end, "info")
        ok(unknown, read("r", 2, 3))
        ok(unknown, read("r", 2, 3), read("r", 4, 5, A))
        broken("twice", unknown, read("r", 2, 3, A, (2, 1, "a")))
    broken("returned before", read("r", 0, 1, A), append("w", "a", 2, None, "info"))


def test_all_reads_are_prefixes_of_one_order() -> None:
    writes = [*append("w", "a", 0, 9), *append("v", "b", 0, 9)]  # acknowledged after the reads
    ok(writes, read("r", 2, 3, A), read("s", 2, 3, A, B))
    ok(writes, read("r", 2, 3, B), read("s", 2, 3, A, B))  # a trimmed already
    broken("disagree", writes, read("r", 2, 3, A, B), read("s", 2, 3, (1, 1, "b")))
    broken("disagree", writes, read("r", 2, 3, A, B), read("s", 2, 3, (1, 1, "b"), (2, 1, "a")))


def test_a_read_after_another_returned_shows_no_less() -> None:
    writes = [*append("w", "a", 0, None, "info"), *append("w", "b", 0, None, "info")]
    ok(writes, read("r", 1, 3, A, B), read("s", 2, 4, A))  # concurrent: either may be first
    broken("shows less", writes, read("r", 1, 2, A, B), read("s", 3, 4, A))


def test_an_append_acknowledged_before_another_was_invoked_comes_first() -> None:
    ok(append("w", "a", 0, 2), append("v", "b", 1, 3), read("r", 4, 5, (1, 1, "b"), (2, 1, "a")))  # concurrent
    broken("comes after", append("w", "a", 0, 1), append("v", "b", 2, 3), read("r", 4, 5, (1, 1, "b"), (2, 1, "a")))
    broken(
        "comes after",
        append("w", "a", 0, 1),
        append("v", "b", 2, None, "info"),
        read("r", 4, 5, (1, 1, "b"), (2, 1, "a")),
    )
    # Nor may it be missing when the later one is there.
    broken("is not in the journal", append("w", "a", 0, 1), append("v", "b", 2, 3), read("r", 2.5, 5, (1, 1, "b")))


def test_a_read_invoked_after_an_acknowledgement_contains_it() -> None:
    ok(append("w", "a", 0, 2), read("r", 1, 3))  # concurrent with the append: may miss it
    broken("does not show it", append("w", "a", 0, 1), append("w", "b", 1, 2), read("r", 3, 4, A))
    ok(append("w", "a", 0, 1, seq=1, epoch=1), read("r", 3, 4, (2, 1, "x")))  # a trimmed, seq known


def test_epochs_never_decrease() -> None:
    ok(read("r", 0, 1, (1, 1, "x"), (2, 2, "y")))
    broken("epoch decreases", read("r", 0, 1, (1, 2, "x"), (2, 1, "y")))
    broken("epoch decreases", read("r", 0, 1, (1, 2, "x")), read("s", 0, 1, (1, 2, "x"), (2, 1, "y")))


def test_sequence_numbers_have_no_gaps() -> None:
    broken("jump from 1 to 3", read("r", 0, 1, (1, 1, "x"), (3, 1, "y")))
    broken("no read shows seq 2", read("r", 0, 1, (1, 1, "x")), read("s", 0, 1, (3, 1, "z")))


def test_entries_of_other_writers_are_allowed() -> None:
    earlier = (1, 1, "written before this history")
    ok(read("r", 0, 1, earlier), append("w", "a", 2, 3), read("r", 4, 5, earlier, (2, 1, "a")))


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("not json", "not JSON"),
        ('{"process": "p", "type": "invoke", "f": "append"}', "missing time"),
        ('{"process": "p", "type": "done", "f": "append", "time": 1}', "type must be"),
        ('{"process": "p", "type": "ok", "f": "append", "time": 1, "value": "a"}', "no open invocation"),
        ('{"process": "p", "type": "invoke", "f": "append", "time": 1, "value": 3}', "a string"),
    ],
)
def test_malformed_histories_are_named(line: str, problem: str) -> None:
    with pytest.raises(Malformed, match=problem):
        journal.check(*journal.parse([line]))


def test_a_read_with_a_bad_entry_is_malformed() -> None:
    lines = [json.dumps(e) for e in read("r", 0, 1)]
    lines[1] = lines[1].replace("[]", '[{"seq": 1}]')
    with pytest.raises(Malformed, match="an entry is"):
        journal.parse(lines)
