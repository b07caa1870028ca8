"""The key-value model with append on small hand-made Jepsen histories, legal and illegal."""

from __future__ import annotations

import time

import pytest

from zkleader.testing.check import Malformed, kv
from zkleader.testing.check.search import linearizable


def event(process: int, kind: str, f: str, key: str, value: str | None) -> str:
    shown = "nil" if value is None else f'"{value}"'
    return f'{{:process {process}, :type :{kind}, :f :{f}, :key "{key}", :value {shown}}}'


def verdict(*lines: str) -> bool:
    by_key = kv.parse(lines)
    deadline = time.monotonic() + 10
    return all(linearizable(ops, kv.INITIAL, kv.step, deadline).linearizable for ops in by_key.values())


def test_appends_concatenate_and_gets_see_the_whole_string() -> None:
    history = [
        event(0, "invoke", "append", "k", "a"),
        event(0, "ok", "append", "k", "a"),
        event(0, "invoke", "append", "k", "b"),
        event(0, "ok", "append", "k", "b"),
        event(1, "invoke", "get", "k", None),
    ]
    assert verdict(*history, event(1, "ok", "get", "k", "ab"))
    assert not verdict(*history, event(1, "ok", "get", "k", "ba"))
    assert not verdict(*history, event(1, "ok", "get", "k", "a"))


def test_a_never_written_key_is_empty_and_put_replaces() -> None:
    assert verdict(event(0, "invoke", "get", "k", None), event(0, "ok", "get", "k", ""))
    assert verdict(event(0, "invoke", "get", "k", None), event(0, "ok", "get", "k", None))
    put = [event(0, "invoke", "append", "k", "a"), event(0, "ok", "append", "k", "a")]
    put += [event(0, "invoke", "put", "k", "z"), event(0, "ok", "put", "k", "z"), event(1, "invoke", "get", "k", None)]
    assert verdict(*put, event(1, "ok", "get", "k", "z"))
    assert not verdict(*put, event(1, "ok", "get", "k", "az"))


def test_keys_are_independent() -> None:
    history = [
        event(0, "invoke", "append", "a", "1"),
        event(0, "ok", "append", "a", "1"),
        event(1, "invoke", "get", "b", None),
    ]
    assert verdict(*history, event(1, "ok", "get", "b", ""))
    assert not verdict(*history, event(1, "ok", "get", "b", "1"))


def test_concurrent_appends_may_land_in_either_order_but_one_order() -> None:
    both = [event(0, "invoke", "append", "k", "a"), event(1, "invoke", "append", "k", "b")]
    done = [event(0, "ok", "append", "k", "a"), event(1, "ok", "append", "k", "b")]
    for seen in ("ab", "ba"):
        assert verdict(*both, *done, event(2, "invoke", "get", "k", None), event(2, "ok", "get", "k", seen))
    assert not verdict(
        *both,
        *done,
        event(2, "invoke", "get", "k", None),
        event(2, "ok", "get", "k", "ab"),
        event(3, "invoke", "get", "k", None),
        event(3, "ok", "get", "k", "ba"),
    )


def test_an_unknown_append_may_take_effect_later_or_never_but_once() -> None:
    unknown = [event(0, "invoke", "append", "k", "a"), event(0, "info", "append", "k", "a")]
    get = event(1, "invoke", "get", "k", None)
    assert verdict(*unknown, get, event(1, "ok", "get", "k", ""))
    assert verdict(*unknown, get, event(1, "ok", "get", "k", ""), get, event(1, "ok", "get", "k", "a"))
    assert not verdict(*unknown, get, event(1, "ok", "get", "k", "aa"))
    assert not verdict(get, event(1, "ok", "get", "k", "a"), *unknown)


def test_a_failed_append_did_nothing() -> None:
    failed = [event(0, "invoke", "append", "k", "a"), event(0, "fail", "append", "k", "a")]
    assert verdict(*failed, event(1, "invoke", "get", "k", None), event(1, "ok", "get", "k", ""))
    assert not verdict(*failed, event(1, "invoke", "get", "k", None), event(1, "ok", "get", "k", "a"))


def test_malformed_lines_are_named() -> None:
    with pytest.raises(Malformed, match="line 1"):
        kv.parse(["{:process 0, :type :invoke, :f :append"])
    with pytest.raises(Malformed, match="line 2"):
        kv.parse([event(0, "invoke", "get", "k", None), event(1, "ok", "get", "k", "")])
