"""The three models by name, and checking one file with one of them."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from . import journal, kv, register
from .search import linearizable
from .verdict import Malformed, Undecided, Verdict


def _check_register(lines: list[str], deadline: float) -> Verdict:
    operations = register.parse(lines)
    outcome = linearizable(operations, register.INITIAL, register.step, deadline)
    return Verdict(outcome.linearizable, len(operations), outcome.explanation)


def _check_kv(lines: list[str], deadline: float) -> Verdict:
    by_key = kv.parse(lines)
    total = sum(len(ops) for ops in by_key.values())
    for key in sorted(by_key, key=repr):
        outcome = linearizable(by_key[key], kv.INITIAL, kv.step, deadline)
        if not outcome.linearizable:
            return Verdict(False, total, [f"key {key!r}:", *outcome.explanation])
    return Verdict(True, total)


def _check_journal(lines: list[str], deadline: float) -> Verdict:
    del deadline  # the rules are a few sorted passes: no search to bound
    return journal.check(*journal.parse(lines))


MODELS: dict[str, Callable[[list[str], float], Verdict]] = {
    "register": _check_register,
    "kv": _check_kv,
    "journal": _check_journal,
}
"""Each model's check: the file's lines and a ``time.monotonic()`` deadline."""


def check_file(model: str, path: Path, timeout: float = 60.0) -> Verdict:
    """Check one history file. Raises :class:`Malformed` for a file that
    cannot be read as ``model``'s history, :class:`Undecided` after ``timeout``
    seconds of search, ``KeyError`` for an unknown model."""
    run = MODELS[model]
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise Malformed(f"cannot read it: {exc}") from None
    return run(lines, time.monotonic() + timeout)


__all__ = ["MODELS", "Malformed", "Undecided", "check_file"]
