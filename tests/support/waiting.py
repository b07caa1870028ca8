"""Bounded waits for tests (tenacity)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

T = TypeVar("T")


def eventually(check: Callable[[], T], timeout: float = 15.0, interval: float = 0.02) -> T:
    """Retry ``check`` (which asserts) until it passes; re-raise its last failure."""
    for attempt in Retrying(
        stop=stop_after_delay(timeout),
        wait=wait_fixed(interval),
        retry=retry_if_exception_type(AssertionError),
        reraise=True,
    ):
        with attempt:
            return check()
    raise AssertionError("unreachable")


def expect(condition: bool, message: str = "not yet") -> None:
    """For use inside lambdas given to :func:`eventually`."""
    if not condition:
        raise AssertionError(message)
