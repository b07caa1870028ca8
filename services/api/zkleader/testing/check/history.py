"""Operations paired from invoke and completion events.

An operation is called at ``call`` and returns at ``ret`` (positions or
times; only their order matters). One whose outcome is unknown (``:info``, or
no completion at all) returns at infinity: it may take effect at any moment
after its call, or never, since taking effect after everything else is the
same as never.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from .verdict import Malformed

UNKNOWN_RETURN = math.inf


@dataclass(frozen=True)
class Operation:
    """``value`` is the input (a write's value, a cas's ``(old, new)``);
    ``output`` what came back (a read's value; ``True``/``False`` for a
    cas that succeeded or failed). ``line`` is where the call was recorded."""

    process: Hashable
    f: str
    value: Hashable
    output: Hashable
    call: float
    ret: float
    line: int
    key: Hashable = None

    @property
    def unknown(self) -> bool:
        return self.ret == UNKNOWN_RETURN

    def describe(self) -> str:
        key = "" if self.key is None else f" key {self.key!r}"
        argument = "" if self.value is None else f" {self.value!r}"
        if self.unknown:
            outcome = ", outcome unknown"
        elif self.output is None:
            outcome = ""
        else:
            outcome = f" -> {self.output!r}"
        return f"line {self.line}: process {self.process!r} {self.f}{key}{argument}{outcome}"


@dataclass(frozen=True)
class Event:
    """One line of a history: ``kind`` is ``invoke``, ``ok``, ``fail`` or ``info``."""

    process: Hashable
    kind: str
    f: str
    value: Hashable
    line: int
    time: float
    key: Hashable = None
    extra: Hashable = None
    """Whatever else a model reads from the line (the journal: an append's seq and epoch)."""


def pair(events: Iterable[Event]) -> list[tuple[Event, Event | None]]:
    """Each invocation with its completion (None: never completed), in call
    order. A process runs one operation at a time, so a new invocation by a
    process leaves its open one without completion."""
    invocations: list[Event] = []
    completions: dict[int, Event] = {}
    open_: dict[Hashable, int] = {}
    for event in events:
        if event.kind == "invoke":
            open_[event.process] = len(invocations)
            invocations.append(event)
            continue
        index = open_.pop(event.process, None)
        if index is None:
            raise Malformed(f"line {event.line}: {event.kind} of process {event.process!r} with no open invocation")
        if invocations[index].f != event.f:
            raise Malformed(
                f"line {event.line}: {event.f} completes {invocations[index].f} (line {invocations[index].line})"
            )
        completions[index] = event
    return [(invoked, completions.get(i)) for i, invoked in enumerate(invocations)]
