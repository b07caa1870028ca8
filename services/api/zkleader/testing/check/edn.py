"""Just enough of Clojure's EDN to read Jepsen's logs: maps, vectors, lists,
strings, keywords, integers, floats, ``nil``, ``true`` and ``false``.

Keywords become strings with their colon (``":ok"``), so they never equal a
string value; vectors and lists become tuples, so values can be hashed.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Any

from .verdict import Malformed

_TOKEN = re.compile(
    r"""[\s,]*(?:
      (?P<open>[\[({]) | (?P<close>[\])}])
    | "(?P<string>(?:[^"\\]|\\.)*)"
    | (?P<atom>[^\s,\[\](){}"]+)
    )""",
    re.VERBOSE | re.DOTALL,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_CLOSING = {"[": "]", "(": ")", "{": "}"}


def parse(text: str) -> Any:
    """The one value in ``text``."""
    value, end = _value(text, 0)
    if text[end:].strip(" \t\r\n,"):
        raise Malformed(f"unexpected text after the value: {text[end:]!r}")
    return value


def _value(text: str, pos: int) -> tuple[Any, int]:
    match = _TOKEN.match(text, pos)
    if match is None:
        raise Malformed(f"a value expected at column {pos + 1}")
    if match.group("open"):
        return _collection(text, match.end(), match.group("open"))
    if match.group("close"):
        raise Malformed(f"unexpected {match.group('close')!r} at column {match.start('close') + 1}")
    if match.group("string") is not None:
        return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), match.group("string")), match.end()
    return _atom(match.group("atom")), match.end()


def _collection(text: str, pos: int, opening: str) -> tuple[Any, int]:
    items: list[Any] = []
    closing = _CLOSING[opening]
    while True:
        match = _TOKEN.match(text, pos)
        if match is None:
            raise Malformed(f"{opening!r} is never closed")
        if match.group("close"):
            if match.group("close") != closing:
                raise Malformed(f"{opening!r} closed by {match.group('close')!r}")
            pos = match.end()
            break
        item, pos = _value(text, pos)
        items.append(item)
    if opening != "{":
        return tuple(items), pos
    if len(items) % 2:
        raise Malformed("a map with an odd number of forms")
    return {_hashable(k): v for k, v in zip(items[::2], items[1::2], strict=True)}, pos


def _hashable(value: Any) -> Hashable:
    if isinstance(value, dict):
        raise Malformed("a map as a map key")
    return value  # type: ignore[no-any-return]


def _atom(atom: str) -> Any:
    if atom == "nil":
        return None
    if atom in ("true", "false"):
        return atom == "true"
    if re.fullmatch(r"[+-]?\d+N?", atom):
        return int(atom.rstrip("N"))
    if re.fullmatch(r"[+-]?(\d+\.\d*|\d*\.\d+|\d+)([eE][+-]?\d+)?M?", atom):
        return float(atom.rstrip("M"))
    return atom  # a keyword (":ok") or a symbol
