"""What a check concludes, and the two ways it can fail to conclude."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Verdict:
    """``explanation`` is empty when the history is linearizable; otherwise it
    names the operations that cannot be ordered, one line each."""

    linearizable: bool
    operations: int
    explanation: list[str] = field(default_factory=list)


class Malformed(ValueError):
    """The file cannot be read as a history of the model (the message says where)."""


class Undecided(TimeoutError):
    """The search ran out of time before reaching a verdict."""
