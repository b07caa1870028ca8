"""The project's journal history: its JSON-lines format and its rules.

One JSON object a line (the format is documented in ``docs/histories.md``):
``{"process", "type": "invoke"|"ok"|"fail"|"info", "f": "append"|"read",
"value", "time"}``. An append's value is its message (unique in the history);
an acknowledged one may carry the ``seq`` and ``epoch`` it was given. A read's
``ok`` value is the journal it returned: ``[{"seq", "epoch", "message"}, ...]``.

Reads return whole journals, so the order of the appends is in the history
itself and no search is needed; the rules below are the ones the issue
fixes, each with a message naming the operations that break it.
"""

from __future__ import annotations

import itertools
import json
import math
from bisect import bisect_left
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from .history import UNKNOWN_RETURN, Event, pair
from .verdict import Malformed, Verdict

_KINDS = ("invoke", "ok", "fail", "info")
_NAMED = 20  # violations printed


@dataclass(frozen=True)
class Append:
    message: str
    outcome: str  # ok, fail or info (info: no answer, or none recorded)
    call: float
    ret: float
    line: int
    process: Hashable
    seq: int | None = None
    epoch: int | None = None

    def describe(self) -> str:
        said = {"ok": "acknowledged", "fail": "failed", "info": "outcome unknown"}[self.outcome]
        at = "" if self.seq is None else f" as seq {self.seq} epoch {self.epoch}"
        return f"append {self.message!r} (line {self.line}, process {self.process!r}, {said}{at})"


@dataclass(frozen=True)
class Entry:
    seq: int
    epoch: int
    message: str


@dataclass(frozen=True)
class Read:
    entries: tuple[Entry, ...]
    call: float
    ret: float
    line: int
    process: Hashable

    @property
    def last(self) -> int:
        """The last sequence number it saw (0: an empty journal)."""
        return self.entries[-1].seq if self.entries else 0

    def describe(self) -> str:
        span = f"seq {self.entries[0].seq}..{self.last}" if self.entries else "empty"
        return f"read (line {self.line}, process {self.process!r}, {span})"


def parse(lines: Iterable[str]) -> tuple[list[Append], list[Read]]:
    events = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except ValueError as exc:
            raise Malformed(f"line {number}: not JSON ({exc})") from None
        events.append(_event(raw, number))
    appends: list[Append] = []
    reads: list[Read] = []
    for invoked, done in pair(events):
        if done is not None and done.time < invoked.time:
            raise Malformed(f"line {done.line}: completes before its invocation (line {invoked.line})")
        outcome = "info" if done is None else done.kind
        ret = UNKNOWN_RETURN if done is None or outcome == "info" else done.time
        if invoked.f == "append":
            if not isinstance(invoked.value, str):
                raise Malformed(f"line {invoked.line}: an append's value is its message, a string")
            seq, epoch = done.extra if done is not None and isinstance(done.extra, tuple) else (None, None)
            appends.append(Append(invoked.value, outcome, invoked.time, ret, invoked.line, invoked.process, seq, epoch))
        elif outcome == "ok" and done is not None:  # a read with no answer constrains nothing
            reads.append(Read(_entries(done.value, done.line), invoked.time, ret, done.line, invoked.process))
    return appends, reads


def _event(raw: Any, number: int) -> Event:
    if not isinstance(raw, dict):
        raise Malformed(f"line {number}: not a JSON object")
    missing = [k for k in ("process", "type", "f", "time") if k not in raw]
    if missing:
        raise Malformed(f"line {number}: missing {', '.join(missing)}")
    if raw["type"] not in _KINDS or raw["f"] not in ("append", "read"):
        raise Malformed(f"line {number}: type must be one of {_KINDS}, f append or read")
    time = raw["time"]
    if isinstance(time, bool) or not isinstance(time, int | float) or not math.isfinite(time):
        raise Malformed(f"line {number}: time must be a number")
    process = raw["process"]
    if isinstance(process, dict | list):
        raise Malformed(f"line {number}: process must be a string or a number")
    value = raw.get("value")
    if isinstance(value, list):
        value = tuple(value)
    placed = None
    if raw["f"] == "append" and raw["type"] == "ok" and "seq" in raw:
        placed = (_integer(raw, "seq", number), _integer(raw, "epoch", number))
    return Event(process, raw["type"], raw["f"], value, number, float(time), extra=placed)


def _integer(raw: dict[str, Any], name: str, number: int) -> int:
    value = raw.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Malformed(f"line {number}: {name} must be an integer")
    return value


def _entries(value: Any, number: int) -> tuple[Entry, ...]:
    if not isinstance(value, tuple):
        raise Malformed(f"line {number}: a read's value is the list of entries it returned")
    entries = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("message"), str):
            raise Malformed(f'line {number}: an entry is {{"seq", "epoch", "message"}}, not {item!r}')
        entries.append(Entry(_integer(item, "seq", number), _integer(item, "epoch", number), item["message"]))
    return tuple(entries)


def check(appends: list[Append], reads: list[Read]) -> Verdict:
    violations: list[str] = []
    for read in reads:
        violations += _within_read(read)
    order, disagreements = _one_order(reads)
    violations += disagreements
    violations += _order_is_gapless(order)
    by_message = {a.message: a for a in appends}
    if len(by_message) < len(appends):
        raise Malformed("two appends of the same message: the checker needs unique messages")
    position = _positions(appends, order, violations)
    violations += _failed_appends_absent(appends, position)
    violations += _real_time_order(appends, position)
    violations += _reads_see_acknowledged(appends, reads, position)
    violations += _reads_see_earlier_reads(reads)
    violations += _no_read_from_the_future(reads, by_message)
    explanation = violations[:_NAMED]
    if len(violations) > _NAMED:
        explanation.append(f"... and {len(violations) - _NAMED} more")
    return Verdict(not violations, len(appends) + len(reads), explanation)


def _within_read(read: Read) -> list[str]:
    found = []
    seen: set[str] = set()
    for before, after in itertools.pairwise(read.entries):
        if after.seq != before.seq + 1:
            found.append(f"{read.describe()}: sequence numbers jump from {before.seq} to {after.seq}")
        if after.epoch < before.epoch:
            found.append(f"{read.describe()}: epoch decreases from {before.epoch} to {after.epoch} at seq {after.seq}")
    for entry in read.entries:
        if entry.message in seen:
            found.append(f"{read.describe()}: {entry.message!r} appears twice")
        seen.add(entry.message)
    return found


def _one_order(reads: list[Read]) -> tuple[dict[int, tuple[Entry, Read]], list[str]]:
    """seq -> (entry, first read that showed it); every read must agree on every seq."""
    order: dict[int, tuple[Entry, Read]] = {}
    found = []
    for read in reads:
        for entry in read.entries:
            known = order.setdefault(entry.seq, (entry, read))
            if known[0] != entry:
                found.append(
                    f"reads disagree at seq {entry.seq}: {known[1].describe()} has {known[0]}, "
                    f"{read.describe()} has {entry}"
                )
    return order, found


def _order_is_gapless(order: dict[int, tuple[Entry, Read]]) -> list[str]:
    found = []
    seqs = sorted(order)
    for before, after in itertools.pairwise(seqs):
        if after != before + 1:
            found.append(f"no read shows seq {before + 1}..{after - 1}, but seq {after} exists")
        if order[after][0].epoch < order[before][0].epoch:
            found.append(f"epoch decreases from {order[before][0].epoch} (seq {before}) to {order[after][0].epoch}")
    return found


def _positions(appends: list[Append], order: dict[int, tuple[Entry, Read]], found: list[str]) -> dict[str, int]:
    """Where each append of the history is in the journal (its seq): from the
    reads, or for an acknowledged one no read shows, from its answer."""
    position: dict[str, int] = {}
    for seq in sorted(order):
        message = order[seq][0].message
        if message in position:
            found.append(f"{message!r} is in the journal twice: seq {position[message]} and {seq}")
        else:
            position[message] = seq
    claimed: dict[int, Append] = {}
    for append in appends:
        if append.outcome != "ok" or append.seq is None:
            continue
        if append.seq in claimed:
            found.append(f"{append.describe()} and {claimed[append.seq].describe()} were given the same seq")
        claimed[append.seq] = append
        shown = order.get(append.seq)
        if shown is not None and (shown[0].message, shown[0].epoch) != (append.message, append.epoch):
            found.append(f"{append.describe()}, but {shown[1].describe()} has {shown[0]} there")
        position.setdefault(append.message, append.seq)
    return position


def _failed_appends_absent(appends: list[Append], position: dict[str, int]) -> list[str]:
    return [
        f"{a.describe()} is in the journal at seq {position[a.message]}"
        for a in appends
        if a.outcome == "fail" and a.message in position
    ]


def _real_time_order(appends: list[Append], position: dict[str, int]) -> list[str]:
    """An append acknowledged before another was invoked comes first (and is
    there at all if the later one is)."""
    found = []
    placed = sorted((a for a in appends if a.message in position), key=lambda a: position[a.message])
    earliest_return: Append | None = None  # among appends placed after the current one
    for later in reversed(placed):
        if earliest_return is not None and earliest_return.ret < later.call:
            found.append(
                f"{earliest_return.describe()} returned before {later.describe()} was invoked, "
                f"but comes after it (seq {position[earliest_return.message]} > {position[later.message]})"
            )
        if earliest_return is None or later.ret < earliest_return.ret:
            earliest_return = later
    if placed:
        last_invoked = max(placed, key=lambda a: a.call)
        for lost in appends:
            if lost.outcome == "ok" and lost.message not in position and lost.ret < last_invoked.call:
                found.append(
                    f"{lost.describe()} is not in the journal, but {last_invoked.describe()}, "
                    f"invoked after it returned, is at seq {position[last_invoked.message]}"
                )
    return found


def _reads_see_acknowledged(appends: list[Append], reads: list[Read], position: dict[str, int]) -> list[str]:
    """A read invoked after an append was acknowledged contains it (reads sync first)."""
    acknowledged = sorted((a for a in appends if a.outcome == "ok"), key=lambda a: a.ret)
    returns = [a.ret for a in acknowledged]
    furthest: list[Append] = []  # furthest[i]: the furthest placed of acknowledged[: i + 1]
    for append in acknowledged:
        here = position.get(append.message, math.inf)
        if not furthest or here > position.get(furthest[-1].message, math.inf):
            furthest.append(append)
        else:
            furthest.append(furthest[-1])
    found = []
    for read in reads:
        count = bisect_left(returns, read.call)
        if not count:
            continue
        witness = furthest[count - 1]
        where = position.get(witness.message)
        if where is None or where > read.last:
            found.append(f"{read.describe()} was invoked after {witness.describe()} returned, but does not show it")
    return found


def _reads_see_earlier_reads(reads: list[Read]) -> list[str]:
    """A read invoked after another returned shows at least as much of the journal."""
    found = []
    by_return = sorted(reads, key=lambda r: r.ret)
    returns = [r.ret for r in by_return]
    longest: list[Read] = []
    for read in by_return:
        longest.append(read if not longest or read.last > longest[-1].last else longest[-1])
    for read in reads:
        count = bisect_left(returns, read.call)
        if count and longest[count - 1].last > read.last:
            found.append(
                f"{read.describe()} was invoked after {longest[count - 1].describe()} returned, but shows less"
            )
    return found


def _no_read_from_the_future(reads: list[Read], by_message: dict[str, Append]) -> list[str]:
    found = []
    for read in reads:
        for entry in read.entries:
            append = by_message.get(entry.message)
            if append is not None and append.call > read.ret:
                found.append(f"{read.describe()} returned before {append.describe()} was invoked, but shows it")
    return found
