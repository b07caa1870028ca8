"""The register model on small hand-made Jepsen logs, legal and illegal."""

from __future__ import annotations

import time

from zkleader.testing.check import register
from zkleader.testing.check.search import linearizable


def log(*events: str) -> list[str]:
    """'P TYPE F VALUE' events as Jepsen log lines."""
    return ["INFO  jepsen.util - " + "\t".join(e.split(" ", 3)) for e in events]


def verdict(*events: str) -> bool:
    ops = register.parse(log(*events))
    return linearizable(ops, register.INITIAL, register.step, time.monotonic() + 10).linearizable


def test_an_empty_register_reads_nil() -> None:
    assert verdict("0 :invoke :read nil", "0 :ok :read nil")
    assert not verdict("0 :invoke :read nil", "0 :ok :read 1")


def test_a_read_after_a_write_returned_sees_it() -> None:
    assert verdict("0 :invoke :write 1", "0 :ok :write 1", "1 :invoke :read nil", "1 :ok :read 1")
    assert not verdict("0 :invoke :write 1", "0 :ok :write 1", "1 :invoke :read nil", "1 :ok :read nil")


def test_a_read_concurrent_with_a_write_may_see_either_value() -> None:
    for seen in ("nil", "1"):
        assert verdict("0 :invoke :write 1", "1 :invoke :read nil", f"1 :ok :read {seen}", "0 :ok :write 1")


def test_reads_cannot_go_back_to_an_older_value() -> None:
    assert not verdict(
        "0 :invoke :write 1",
        "1 :invoke :read nil",
        "1 :ok :read 1",
        "2 :invoke :read nil",
        "2 :ok :read nil",
        "0 :ok :write 1",
    )


def test_a_successful_cas_found_old_and_a_failed_one_did_not() -> None:
    assert verdict("0 :invoke :write 1", "0 :ok :write 1", "0 :invoke :cas [1 2]", "0 :ok :cas [1 2]")
    assert not verdict("0 :invoke :write 1", "0 :ok :write 1", "0 :invoke :cas [3 2]", "0 :ok :cas [3 2]")
    assert verdict("0 :invoke :write 1", "0 :ok :write 1", "0 :invoke :cas [3 2]", "0 :fail :cas [3 2]")
    assert not verdict("0 :invoke :write 1", "0 :ok :write 1", "0 :invoke :cas [1 2]", "0 :fail :cas [1 2]")
    # A failed cas changed nothing.
    assert not verdict("0 :invoke :cas [3 2]", "0 :fail :cas [3 2]", "0 :invoke :read nil", "0 :ok :read 2")


def test_an_unknown_write_may_take_effect_later_or_never() -> None:
    unknown = ["0 :invoke :write 1", "0 :info :write 1"]
    assert verdict(*unknown, "1 :invoke :read nil", "1 :ok :read nil")  # never (so far)
    assert verdict(*unknown, "1 :invoke :read nil", "1 :ok :read nil", "1 :invoke :read nil", "1 :ok :read 1")
    # Long after its call, even after an operation that began later.
    assert verdict(*unknown, "1 :invoke :write 2", "1 :ok :write 2", "1 :invoke :read nil", "1 :ok :read 1")
    # But not before its call.
    assert not verdict("1 :invoke :read nil", "1 :ok :read 1", *unknown)
    # And only once: the value cannot come back after being overwritten.
    assert not verdict(
        *unknown,
        "1 :invoke :read nil",
        "1 :ok :read 1",
        "1 :invoke :write 2",
        "1 :ok :write 2",
        "1 :invoke :read nil",
        "1 :ok :read 1",
    )


def test_an_invocation_with_no_completion_is_unknown() -> None:
    assert verdict("0 :invoke :write 1", "1 :invoke :read nil", "1 :ok :read 1")
    assert verdict("0 :invoke :write 1", "1 :invoke :read nil", "1 :ok :read nil")


def test_an_unknown_cas_took_effect_only_if_it_found_old() -> None:
    unknown_cas = ["0 :invoke :cas [1 2]", "0 :info :cas [1 2]"]
    assert not verdict(*unknown_cas, "1 :invoke :read nil", "1 :ok :read 2")  # the register held nil
    assert verdict("1 :invoke :write 1", "1 :ok :write 1", *unknown_cas, "1 :invoke :read nil", "1 :ok :read 2")


def test_failed_writes_and_unanswered_reads_constrain_nothing() -> None:
    assert verdict("0 :invoke :write 1", "0 :fail :write 1", "1 :invoke :read nil", "1 :ok :read nil")
    assert not verdict("0 :invoke :write 1", "0 :fail :write 1", "1 :invoke :read nil", "1 :ok :read 1")
    assert verdict("0 :invoke :read nil", "0 :fail :read :timed-out", "1 :invoke :read nil", "1 :ok :read nil")
    assert verdict("0 :invoke :read nil", "0 :info :read nil")


def test_the_explanation_names_the_operation_that_cannot_be_placed() -> None:
    ops = register.parse(log("0 :invoke :write 1", "0 :ok :write 1", "1 :invoke :read nil", "1 :ok :read 7"))
    outcome = linearizable(ops, register.INITIAL, register.step, time.monotonic() + 10)
    assert not outcome.linearizable
    assert "line 3" in outcome.explanation[0] and "read -> 7" in outcome.explanation[0]


def test_other_log_lines_and_the_nemesis_are_ignored() -> None:
    lines = [
        "INFO  jepsen.core - Worker 0 starting",
        *log("0 :invoke :write 1", ":nemesis :info :start nil", "0 :ok :write 1"),
    ]
    assert len(register.parse(lines)) == 1
