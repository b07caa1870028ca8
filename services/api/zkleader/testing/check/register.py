"""Jepsen's single compare-and-set register: its log format and its model.

One event a line, ``... jepsen.util - P<TAB>TYPE<TAB>F<TAB>VALUE`` (other
lines, and the nemesis's, are ignored). The register starts empty (``nil``).

* ``:ok :read V``: the register held V. A read with no answer (``:fail`` or
  ``:info``) constrains nothing and is dropped.
* ``:write V``: ``:ok`` set V; ``:fail`` did nothing (dropped); ``:info`` may
  have set V at any moment after the call, or never.
* ``:cas [OLD NEW]``: ``:ok`` found OLD and set NEW; ``:fail`` found something
  other than OLD and changed nothing; ``:info`` either, or never.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable

from . import edn
from .history import UNKNOWN_RETURN, Event, Operation, pair
from .verdict import Malformed

INITIAL: Hashable = None

_LINE = re.compile(r"(?:^|\s)(?P<process>\S+)\t(?P<type>:\w+)\t(?P<f>:\w+)\t(?P<value>.*?)\s*$")
_TYPES = {":invoke": "invoke", ":ok": "ok", ":fail": "fail", ":info": "info"}
_FUNCTIONS = {":read": "read", ":write": "write", ":cas": "cas"}


def parse(lines: Iterable[str]) -> list[Operation]:
    events = []
    for number, line in enumerate(lines, start=1):
        match = _LINE.search(line)
        if match is None or match["process"] == ":nemesis":
            continue
        kind = _TYPES.get(match["type"])
        f = _FUNCTIONS.get(match["f"])
        if kind is None or f is None:
            raise Malformed(f"line {number}: unknown type {match['type']} or function {match['f']}")
        try:
            value = edn.parse(match["value"])
        except Malformed as exc:
            raise Malformed(f"line {number}: {exc}") from None
        events.append(Event(match["process"], kind, f, value, number, float(number)))
    return operations(events)


def operations(events: Iterable[Event]) -> list[Operation]:
    """The operations that matter to the register, each with its outcome."""
    result = []
    for invoked, done in pair(events):
        kind = "info" if done is None else done.kind
        if invoked.f == "cas" and not (isinstance(invoked.value, tuple) and len(invoked.value) == 2):
            raise Malformed(f"line {invoked.line}: a cas takes [old new], not {invoked.value!r}")
        if (kind == "fail" and invoked.f != "cas") or (kind == "info" and invoked.f == "read"):
            continue  # nothing happened, or nothing was learnt
        ret = UNKNOWN_RETURN if done is None or kind == "info" else done.time
        output: Hashable = None
        if invoked.f == "read":
            output = done.value if done is not None else None
        elif invoked.f == "cas":
            output = None if kind == "info" else kind == "ok"
        result.append(Operation(invoked.process, invoked.f, invoked.value, output, invoked.time, ret, invoked.line))
    return result


def step(state: Hashable, op: Operation) -> tuple[bool, Hashable]:
    if op.f == "read":
        return state == op.output, state
    if op.f == "write":
        return True, op.value
    assert isinstance(op.value, tuple)
    old, new = op.value
    holds = state == old
    if op.output is None:  # unknown: it took effect only if it found OLD
        return True, new if holds else state
    return holds == op.output, new if holds else state
