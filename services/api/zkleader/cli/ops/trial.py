"""One failover trial: find the sole leader, fault it, wait for a successor,
undo the fault and wait for the old leader to rejoin as a follower.

The fault and its undoing are callables (``docker compose kill``/``stop`` and
``start``, a network disconnect and reconnect, ...), so the command, the stack
tests and the benchmark run the very same trial. What a caller wants to show
while it runs comes through :class:`TrialEvents`, whose methods do nothing by
default.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .leader import Found, Leader, Views, sole_leader, wait_for_leader

ReadViews = Callable[[list[str]], Views]
"""Reads ``GET /leader`` of the named instances."""


class TrialFailed(RuntimeError):
    """The trial could not be completed; the message says which step and why."""


class TrialEvents:
    """Hooks for showing a trial as it happens. They run on the caller's thread;
    an exception raised in one ends the trial."""

    def initial(self, views: Views, leader: Leader | None) -> None:
        """Before anything: what every instance says (``leader`` None: no sole leader yet)."""

    def settled(self, found: Found) -> None:
        """Only when there was no sole leader at first: the one waited for."""

    def faulting(self, leader: Leader, survivors: list[str], timeout: float) -> None:
        """Just before the fault is applied to ``leader``."""

    def issued(self, leader: Leader, at: float) -> None:
        """The fault has been started (it may still be running) at ``at``."""

    def polled(self, reference: float, started: float, views: Views) -> None:
        """Every poll while waiting; ``reference`` is when that wait began."""

    def elected(self, trial: Trial) -> None:
        """A successor leads (``trial.new_leader``); the fault has completed."""

    def restoring(self, trial: Trial) -> None:
        """Just before the fault is undone."""

    def restored(self, trial: Trial) -> None:
        """The fault is undone; the old leader should now rejoin."""

    def rejoined(self, trial: Trial, found: Found) -> None:
        """Every instance agrees on a sole leader again (checked afterwards to be the successor)."""


@dataclass
class Trial:
    """Wall-clock (Unix seconds) record of one trial."""

    old_leader: str
    old_epoch: int
    survivors: list[str]
    fault_at: float
    new_leader: str = ""
    new_epoch: int = -1
    seen_at: float = 0.0
    restored_at: float = 0.0
    rejoin_seen_at: float = 0.0

    @property
    def poll_saw_seconds(self) -> float:
        return self.seen_at - self.fault_at


def failover_trial(
    members: list[str],
    read: ReadViews,
    fault: Callable[[str], object],
    restore: Callable[[str], object],
    *,
    timeout: float | Callable[[Leader], float],
    rejoin_timeout: float,
    interval: float = 0.2,
    settle_timeout: float = 30.0,
    events: TrialEvents | None = None,
) -> Trial:
    """Run one trial over ``members`` and return its record.

    ``timeout``: bound, from the moment the fault is issued, for a sole leader
    among the survivors with a higher epoch (a number, or computed from the
    leader found). The fault runs on its own thread, because a graceful stop
    hands leadership over while the stop command is still running.
    Raises :class:`TrialFailed` when no sole leader appears within a bound,
    the fault or its undoing fails, or leadership moves again during the rejoin.
    """
    events = events or TrialEvents()
    views = read(members)
    leader = sole_leader(views)
    events.initial(views, leader)
    if leader is None:
        found = wait_for_leader(
            lambda: read(members),
            timeout=settle_timeout,
            interval=interval,
            on_poll=_relay(events, time.time()),
        )
        if found is None:
            raise TrialFailed(
                f"no single leader among {' '.join(members)} within {settle_timeout:g} s: nothing to fail over"
            )
        events.settled(found)
        leader = found.leader

    survivors = [name for name in members if name != leader.name]
    bound = timeout(leader) if callable(timeout) else timeout
    events.faulting(leader, survivors, bound)
    trial = Trial(leader.name, leader.epoch, survivors, fault_at=time.time())
    fault_thread = _Background(fault, leader.name)
    events.issued(leader, trial.fault_at)

    found = wait_for_leader(
        lambda: read(survivors),
        timeout=max(0.0, trial.fault_at + bound - time.time()),
        interval=interval,
        min_epoch=leader.epoch + 1,
        on_poll=_relay(events, trial.fault_at),
    )
    fault_error = fault_thread.join()
    if found is None:
        raise TrialFailed(f"no single leader among {' '.join(survivors)} within {bound:g} s of the fault")
    if fault_error is not None:
        raise TrialFailed(f"the fault on {leader.name} failed: {fault_error}")
    trial.new_leader, trial.new_epoch, trial.seen_at = found.leader.name, found.leader.epoch, found.seen_at
    events.elected(trial)

    events.restoring(trial)
    try:
        restore(leader.name)
    except Exception as exc:
        raise TrialFailed(f"undoing the fault on {leader.name} failed: {exc}") from exc
    trial.restored_at = time.time()
    events.restored(trial)

    rejoined = wait_for_leader(
        lambda: read(members),
        timeout=rejoin_timeout,
        interval=interval,
        min_epoch=trial.new_epoch,
        on_poll=_relay(events, trial.restored_at),
    )
    if rejoined is None:
        raise TrialFailed(f"{leader.name} did not rejoin under a single leader within {rejoin_timeout:g} s")
    trial.rejoin_seen_at = rejoined.seen_at
    events.rejoined(trial, rejoined)
    if rejoined.leader != found.leader:
        now = rejoined.leader
        raise TrialFailed(f"the leadership changed again during the rejoin: now {now.name}, epoch {now.epoch}")
    return trial


def _relay(events: TrialEvents, reference: float) -> Callable[[float, Views], None]:
    return lambda started, views: events.polled(reference, started, views)


class _Background:
    """``func(arg)`` on a thread; ``join`` gives back its exception, if any."""

    def __init__(self, func: Callable[[str], object], arg: str) -> None:
        self._error: BaseException | None = None

        def target() -> None:
            try:
                func(arg)
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller by join()
                self._error = exc

        self._thread = threading.Thread(target=target, name=f"fault-{arg}", daemon=True)
        self._thread.start()

    def join(self) -> BaseException | None:
        self._thread.join()
        return self._error
