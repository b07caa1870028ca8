"""Polling for ``zkleader watch``: one thread per instance, so a slow or frozen
instance never delays what the others show."""

from __future__ import annotations

import threading
import time

from .members import Member, member_from, read_sequences
from .ops import http

SEQUENCE_REFRESH = 1.0  # seconds between GET /cluster reads (it asks ZooKeeper)


class Watcher:
    def __init__(self, urls: list[str], interval: float, timeout: float) -> None:
        self._urls = urls
        self._interval = interval
        self._timeout = timeout
        self._changed = threading.Condition()
        self._replies: dict[str, http.Reply] = {}
        self._sequences: dict[str, int] = {}
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._poll, args=(url,), name=f"watch-{url}", daemon=True) for url in urls
        ]
        self._threads.append(threading.Thread(target=self._poll_sequences, name="watch-cluster", daemon=True))

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()

    def complete(self) -> bool:
        """Every instance has answered (or failed to) at least once."""
        with self._changed:
            return len(self._replies) == len(self._urls)

    def members(self) -> list[Member]:
        with self._changed:
            replies, sequences = dict(self._replies), dict(self._sequences)
        return [
            member_from(url, replies[url], sequences) if url in replies else Member(url, None, "no answer yet")
            for url in self._urls
        ]

    def wait_for_update(self, timeout: float) -> list[Member]:
        """The members, after the next answer or ``timeout`` s, whichever first."""
        with self._changed:
            self._changed.wait(timeout)
        return self.members()

    def _poll(self, url: str) -> None:
        while not self._stopping.is_set():
            started = time.monotonic()
            reply = http.get(url, "/leader", self._timeout)
            with self._changed:
                self._replies[url] = reply
                self._changed.notify_all()
            self._stopping.wait(max(0.0, self._interval - (time.monotonic() - started)))

    def _poll_sequences(self) -> None:
        while not self._stopping.is_set():
            reachable = [m for m in self.members() if m.reachable]
            sequences, _ = read_sequences(reachable, self._timeout)
            if sequences:
                with self._changed:
                    self._sequences = sequences
            self._stopping.wait(SEQUENCE_REFRESH)
