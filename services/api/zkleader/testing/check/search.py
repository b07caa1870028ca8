"""The Wing-Gong linearizability search with Lowe's cache, as Porcupine does it.

The history is a list of call and return events in time order. The search
walks it, and at each call tries to linearize that operation now: if the
model accepts it from the current state, the operation (its call and its
return) is lifted out of the list and the search goes on from the list's
head. Reaching a return event means an operation that has returned was not
linearized in time: undo the last choice and try the next candidate. A cache
of (linearized set, state) pairs already explored cuts off every branch that
reaches a configuration seen before, which is what makes the search practical.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

from .history import Operation
from .verdict import Undecided

Step = Callable[[Hashable, Operation], tuple[bool, Hashable]]
"""A model's transition: from a state and an operation, whether the
operation is legal there and the state after it."""

_CLOCK_EVERY = 4096  # search steps between two looks at the deadline
_NAMED = 8  # operations named in an explanation


@dataclass(frozen=True)
class Outcome:
    linearizable: bool
    explanation: list[str]


def linearizable(operations: Sequence[Operation], initial: Hashable, step: Step, deadline: float) -> Outcome:
    """Whether ``operations`` can be ordered, each between its call and its
    return, into a sequence that ``step`` accepts from ``initial``. Raises
    :class:`Undecided` once ``time.monotonic()`` passes ``deadline``."""
    if not operations:
        return Outcome(True, [])
    # Nodes 1..2n are the events in time order (calls before returns at equal
    # times: touching operations count as concurrent); node 0 is the head.
    order = sorted(
        [(op.call, 0, i) for i, op in enumerate(operations)] + [(op.ret, 1, i) for i, op in enumerate(operations)]
    )
    size = len(order) + 1
    nxt = [*range(1, size), -1]
    prv = list(range(-1, size - 1))
    op_of = [-1] + [i for _, _, i in order]
    is_call = [False] + [kind == 0 for _, kind, _ in order]
    return_node = [0] * len(operations)
    for node, (_, kind, i) in enumerate(order, start=1):
        if kind == 1:
            return_node[i] = node

    def lift(node: int) -> None:
        for n in (node, return_node[op_of[node]]):
            nxt[prv[n]] = nxt[n]
            if nxt[n] != -1:
                prv[nxt[n]] = prv[n]

    def unlift(node: int) -> None:
        for n in (return_node[op_of[node]], node):
            nxt[prv[n]] = n
            if nxt[n] != -1:
                prv[nxt[n]] = n

    cache: set[tuple[int, Hashable]] = set()
    chosen: list[tuple[int, Hashable]] = []  # (call node, state before it)
    linearized = 0
    state = initial
    best: tuple[int, int, Hashable] = (-1, 0, initial)  # (ops linearized, blocking op, state)
    node = nxt[0]
    steps = 0
    while nxt[0] != -1:
        if steps % _CLOCK_EVERY == 0 and time.monotonic() > deadline:
            raise Undecided(f"undecided after {steps} search steps")
        steps += 1
        if is_call[node]:
            op = op_of[node]
            legal, after = step(state, operations[op])
            if legal:
                bits = linearized | (1 << op)
                if (bits, after) not in cache:
                    cache.add((bits, after))
                    chosen.append((node, state))
                    state, linearized = after, bits
                    lift(node)
                    node = nxt[0]
                    continue
            node = nxt[node]
            continue
        if len(chosen) > best[0]:
            best = (len(chosen), op_of[node], state)
        if not chosen:
            break
        node, state = chosen.pop()
        linearized &= ~(1 << op_of[node])
        unlift(node)
        node = nxt[node]
    else:
        return Outcome(True, [])
    return Outcome(False, _explain(operations, *best))


def _explain(operations: Sequence[Operation], ordered: int, blocking: int, state: Hashable) -> list[str]:
    """The operation that returned before any legal order could include it,
    how far the longest partial order got, and the operations that overlap
    the blocking one (the candidates for its place)."""
    stuck = operations[blocking]
    rivals = [op for i, op in enumerate(operations) if i != blocking and op.call < stuck.ret and op.ret > stuck.call]
    lines = [
        f"cannot linearize {stuck.describe()}",
        f"  the longest legal order reaches {ordered} of {len(operations)} operations, state then {state!r}",
    ]
    if rivals:
        lines.append(f"  concurrent with it ({len(rivals)}), none of which makes it legal:")
        lines += [f"    {op.describe()}" for op in rivals[:_NAMED]]
        if len(rivals) > _NAMED:
            lines.append(f"    ... and {len(rivals) - _NAMED} more")
    return lines
