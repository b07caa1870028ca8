"""The stack tests' recorded history (tests/support/journal_writers.py), checked, without a stack."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.journal_writers import Read, Write, check_history


def entry(seq: int, message: str) -> dict[str, object]:
    return {"seq": seq, "epoch": 1, "instance": "api1", "message": message, "at": 0.0}


WRITES = [
    Write("gateway", "k-1", 1.0, 1.1, 201, seq=1, epoch=1, instance="api1"),
    Write("api2", "k-2", 1.2, 1.3, 503, error="not the leader"),
    Write("gateway", "k-3", 1.4, 16.4, 0, error="ReadTimeout"),
]


def test_a_legal_history_is_saved_and_checks(tmp_path: Path) -> None:
    reads = [Read("api1", 2.0, 2.1, [entry(1, "k-1")]), Read("api2", 20.0, 20.1, [entry(1, "k-1"), entry(2, "k-3")])]
    path = check_history("scenario[x]", WRITES, reads, folder=tmp_path)
    assert path.name == "scenario-x-.jsonl" and len(path.read_text().splitlines()) == 10


def test_a_lost_acknowledged_write_fails_naming_the_file(tmp_path: Path) -> None:
    reads = [Read("api1", 2.0, 2.1, []), Read("api2", 3.0, 3.1, None)]
    with pytest.raises(AssertionError, match=r"lost\.jsonl does not check") as failed:
        check_history("lost", WRITES, reads, folder=tmp_path)
    assert "k-1" in str(failed.value) and (tmp_path / "lost.jsonl").exists()


def test_a_503_write_that_appears_fails(tmp_path: Path) -> None:
    reads = [Read("api1", 2.0, 2.1, [entry(1, "k-1"), entry(2, "k-2")])]
    with pytest.raises(AssertionError, match="failed"):
        check_history("failed", WRITES, reads, folder=tmp_path)
