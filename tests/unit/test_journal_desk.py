"""The journal desk's drain before a handover, with the journal and election faked."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

from zkleader.config import load_settings
from zkleader.election import Fence
from zkleader.journal import AppendOutcome, AppendResult
from zkleader.runtime.journal_desk import JournalDesk

SETTINGS = load_settings({"ZK_HOSTS": "zk1:2181", "INSTANCE_ID": "api1"})


class SlowJournal:
    """Appends that take ``seconds`` each and always commit."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.committed = 0
        self.started = threading.Event()  # an append is under way

    def append(self, fence: Fence, message: str, key: str | None) -> AppendResult:
        self.started.set()
        time.sleep(self.seconds)
        self.committed += 1
        return AppendResult(AppendOutcome.APPENDED)


def desk_with(journal: SlowJournal) -> JournalDesk:
    election: Any = SimpleNamespace(
        client=None,
        fence=lambda: Fence("/zkleader/election/member-x-0000000001", 7),
        status=SimpleNamespace(leader=None),
        identity=SimpleNamespace(instance="api1"),
    )
    desk = JournalDesk(election, SETTINGS)
    desk._journal = journal  # type: ignore[assignment]
    return desk


def test_drain_refuses_new_appends_at_once_and_waits_for_those_in_flight() -> None:
    journal = SlowJournal(0.2)
    desk = desk_with(journal)
    in_flight = threading.Thread(target=desk.append, args=("in flight", None))
    in_flight.start()
    # Not a fixed sleep: on a loaded machine the thread may not have begun yet.
    assert journal.started.wait(5.0)
    started = time.monotonic()
    desk.drain(timeout=2.0)
    assert 0.05 < time.monotonic() - started < 1.0, "waits for the append in flight, and no longer"
    assert journal.committed == 1
    refused = desk.append("after the drain", None)
    assert refused.outcome is AppendOutcome.NOT_LEADER and journal.committed == 1


def test_a_steady_writer_does_not_hold_the_handover_back() -> None:
    """A client writing every 20 ms never leaves a quiet moment; the drain must not wait for one."""
    desk = desk_with(SlowJournal(0.01))
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            desk.append("steady", None)
            time.sleep(0.02)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        time.sleep(0.1)
        started = time.monotonic()
        desk.drain(timeout=2.0)
        assert time.monotonic() - started < 0.5
    finally:
        stop.set()
        thread.join()
