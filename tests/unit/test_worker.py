"""The election worker's one scheduler and the negotiated-timeout fallback."""

from __future__ import annotations

import logging

import pytest

from zkleader.election.compat import NegotiatedTimeout
from zkleader.election.worker import Backoff, Scheduler, Timer
from zkleader.testing import FakeKazooClient


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_every_retry_follows_one_back_off_policy_per_timer() -> None:
    clock = Clock()
    scheduler = Scheduler(Backoff(0.1, 0.5), clock)
    assert [scheduler.retry(Timer.CHECK) for _ in range(5)] == [0.1, 0.2, 0.4, 0.5, 0.5]
    assert scheduler.retry(Timer.RECORD) == 0.1  # its own back-off, the same policy
    scheduler.succeeded(Timer.CHECK)
    assert not scheduler.pending(Timer.CHECK) and scheduler.retry(Timer.CHECK) == 0.1


def test_due_timers_run_in_a_fixed_order_and_the_worker_sleeps_until_the_next() -> None:
    clock = Clock()
    scheduler = Scheduler(Backoff(0.1, 5.0), clock)
    assert scheduler.idle_timeout() is None
    scheduler.after(Timer.RENEW, 0.5)
    scheduler.after(Timer.RECORD, 0.0)
    scheduler.retry(Timer.CHECK)
    assert scheduler.idle_timeout() == 0.0
    assert scheduler.pop_due() == [Timer.RECORD]
    clock.now += 1.0
    assert scheduler.pop_due() == [Timer.CHECK, Timer.RENEW]
    assert scheduler.idle_timeout() is None


def test_an_unreadable_negotiated_timeout_falls_back_to_the_requested_one_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    timeout = NegotiatedTimeout(FakeKazooClient(timeout=4.0))  # not a kazoo connection: nothing to read
    with caplog.at_level(logging.WARNING, logger="zkleader.election"):
        timeout.learn_in_listener()
        timeout.learn_from_connection_thread()
    assert timeout.seconds == 4.0
    assert len([r for r in caplog.records if "negotiated session timeout" in r.getMessage()]) == 1
