"""What the web layer may ask about this instance's participant.

A module of its own so that ``app``, ``routes`` and ``metrics`` all import it
and none of them imports another for a type.
"""

from __future__ import annotations

from typing import Protocol

from .. import Identity, Liveness, Participant, Status, SwitchoverResult, Term


class ElectionView(Protocol):
    """``status`` and ``history`` answer from memory and never wait on ZooKeeper;
    ``participants``, ``observers``, ``resign``, ``switchover`` and ``liveness`` ask the participant and may
    wait (bounded). Whether the instance may act as leader is
    ``status().is_leader_now()``, decided at read time."""

    def status(self) -> Status: ...

    def history(self) -> list[Term]: ...

    def participants(self) -> list[Participant]: ...

    def observers(self) -> list[Identity]: ...

    def resign(self) -> bool: ...

    def switchover(self, candidate: str) -> SwitchoverResult: ...

    def liveness(self) -> Liveness: ...
