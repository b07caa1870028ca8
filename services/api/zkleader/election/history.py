"""Leadership terms of one participant, for audit and overlap checks.

Times are Unix seconds from the wall clock so that terms of different
instances on one host can be compared.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Term:
    epoch: int
    elected_at: float
    ended_at: float | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        raw = asdict(self)
        return {
            "epoch": raw["epoch"],
            "electedAt": raw["elected_at"],
            "endedAt": raw["ended_at"],
            "reason": raw["reason"],
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Term:
        return cls(
            epoch=int(raw["epoch"]),
            elected_at=float(raw["electedAt"]),
            ended_at=None if raw.get("endedAt") is None else float(raw["endedAt"]),
            reason=raw.get("reason"),
        )


class TermHistory:
    """The most recent terms, oldest first; the last may still be open."""

    def __init__(self, terms: Iterable[Term] = (), limit: int = 1000) -> None:
        self._lock = threading.Lock()
        self._terms: deque[Term] = deque(terms, maxlen=limit)

    def elected(self, epoch: int, at: float) -> None:
        with self._lock:
            self._close_open(at, "superseded")
            self._terms.append(Term(epoch=epoch, elected_at=at))

    def revoked(self, reason: str, at: float) -> None:
        with self._lock:
            self._close_open(at, reason)

    def terms(self) -> list[Term]:
        with self._lock:
            return list(self._terms)

    def _close_open(self, at: float, reason: str) -> None:
        if self._terms and self._terms[-1].ended_at is None:
            last = self._terms.pop()
            self._terms.append(Term(last.epoch, last.elected_at, max(at, last.elected_at), reason))
