"""Jepsen's key-value store with append: its log format and its model.

One event a line, a Clojure map:
``{:process P, :type :invoke|:ok|:fail|:info, :f :get|:put|:append, :key K, :value V}``.
A key starts as the empty string; ``:get`` returns the key's whole string,
``:put`` sets it, ``:append`` concatenates. A ``:fail`` did nothing, and a
``:get`` with no answer constrains nothing: both are dropped. A put or append
with no answer (``:info``, or no completion) may take effect at any moment
after its call, or never.

Keys are independent, so the history is split by key and each key checked on
its own (P-compositionality): a history is linearizable if and only if every
key's sub-history is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable

from . import edn
from .history import UNKNOWN_RETURN, Event, Operation, pair
from .verdict import Malformed

INITIAL: Hashable = ""

_TYPES = {":invoke": "invoke", ":ok": "ok", ":fail": "fail", ":info": "info"}
_FUNCTIONS = {":get": "get", ":put": "put", ":append": "append"}


def parse(lines: Iterable[str]) -> dict[Hashable, list[Operation]]:
    """Operations by key."""
    events = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = edn.parse(line)
        except Malformed as exc:
            raise Malformed(f"line {number}: {exc}") from None
        if not isinstance(raw, dict):
            raise Malformed(f"line {number}: not a map")
        kind = _TYPES.get(raw.get(":type"))  # type: ignore[arg-type]
        f = _FUNCTIONS.get(raw.get(":f"))  # type: ignore[arg-type]
        if kind is None or f is None or ":process" not in raw or ":key" not in raw:
            raise Malformed(f"line {number}: needs :process, :type, :f (:get/:put/:append) and :key")
        value = raw.get(":value")
        if value is not None and not isinstance(value, str):
            raise Malformed(f"line {number}: the value must be a string or nil, not {value!r}")
        events.append(Event(raw[":process"], kind, f, value, number, float(number), key=raw[":key"]))
    by_key: dict[Hashable, list[Operation]] = defaultdict(list)
    for invoked, done in pair(events):
        if done is not None and done.key != invoked.key:
            raise Malformed(f"line {done.line}: completes an operation on another key (line {invoked.line})")
        kind = "info" if done is None else done.kind
        if kind == "fail" or (kind == "info" and invoked.f == "get"):
            continue
        if invoked.f != "get" and invoked.value is None:
            raise Malformed(f"line {invoked.line}: {invoked.f} without a value")
        ret = UNKNOWN_RETURN if done is None or kind == "info" else done.time
        output = (done.value or "") if invoked.f == "get" and done is not None else None
        by_key[invoked.key].append(
            Operation(invoked.process, invoked.f, invoked.value, output, invoked.time, ret, invoked.line, invoked.key)
        )
    return dict(by_key)


def step(state: Hashable, op: Operation) -> tuple[bool, Hashable]:
    assert isinstance(state, str)
    if op.f == "get":
        return state == op.output, state
    if op.f == "put":
        return True, op.value
    return True, state + str(op.value)
