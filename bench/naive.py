"""The seed article's recipe, ported to kazoo as a baseline for the benchmark.

A port in the spirit of Vasil Kosturski's "Leader election with ZooKeeper"
(C#, ZooKeeperNetEx), kept deliberately as simple as the article:

* enrol once with an ephemeral sequential node ``n_`` under the election path;
* the check: ``get_children``, sort the names **as strings**, the lowest leads;
  otherwise ``exists(predecessor, watch=...)`` and wait;
* the watch only enqueues; one consumer thread drains a ``queue.Queue`` (the
  article's ``Channel``) and re-runs the check, so checks never overlap.

What it does *not* have, on purpose (that is what the comparison is about): no
connection-state handling (SUSPENDED/LOST are ignored, a leader keeps
believing it leads), no re-enrolment after session expiry, no create-retry
protection (a ``create`` whose reply is lost leaves an orphan node), no
own-session check, no lease. String order is also wrong once ZooKeeper's
32-bit sequence wraps to negative numbers.

Two departures from the article, both for a fair benchmark: the session
timeout is whatever the caller's client asks for (the benchmark uses the same
4 s as the other recipes; the article uses 30 s), and when ``exists`` finds
the predecessor already gone the check runs again at once (the ZooKeeper
recipe's step; without it such a participant would wait forever).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException
from kazoo.protocol.states import WatchedEvent

log = logging.getLogger("bench.naive")

NODE_PREFIX = "n_"

_REGISTER = "register"
_CHECK = "check"
_STOP = "stop"


class NaiveLeaderElection:
    """One participant of the article's recipe; owns its client from start to close."""

    def __init__(
        self,
        client: KazooClient,
        path: str,
        *,
        on_elected: Callable[[], None] | None = None,
        on_stepped_down: Callable[[], None] | None = None,
    ) -> None:
        self._client = client
        self._path = path.rstrip("/")
        self._on_elected = on_elected
        self._on_stepped_down = on_stepped_down
        self._events: queue.Queue[str | WatchedEvent] = queue.Queue()
        self._consumer = threading.Thread(target=self._consume, name="naive-election", daemon=True)
        self._node: str | None = None
        self._leading = False
        self._waiting = False
        self._stopped = threading.Event()

    @property
    def is_leader(self) -> bool:
        return self._leading

    @property
    def enrolled(self) -> bool:
        """Has a node and is either leading or watching its predecessor."""
        return self._node is not None and (self._leading or self._waiting)

    @property
    def node(self) -> str | None:
        return self._node

    def start(self) -> None:
        """Connect and enrol on the consumer thread; returns at once."""
        self._consumer.start()
        self._events.put(_REGISTER)

    def close(self) -> None:
        """Graceful leave: step down, delete our node (wakes the successor), close the session."""
        if self._leading:
            self._leading = False
            if self._on_stepped_down is not None:
                self._on_stepped_down()
        self._stopped.set()
        node = self._node
        if node is not None and self._client.connected:
            try:
                self._client.delete(f"{self._path}/{node}")
            except KazooException as exc:
                log.warning("could not delete %s on close: %s", node, exc)
        self._events.put(_STOP)
        self._consumer.join(10.0)
        self._client.stop()
        self._client.close()

    # ------------------------------------------------------------ internals

    def _on_watch(self, event: WatchedEvent) -> None:
        self._events.put(event)

    def _consume(self) -> None:
        while True:
            item = self._events.get()
            if item == _STOP or self._stopped.is_set():
                return
            try:
                if item == _REGISTER:
                    self._register()
                self._check()
            except (KazooException, ValueError) as exc:  # no recovery in the article: log, wait for an event
                log.warning("naive check failed: %s: %s", type(exc).__name__, exc)

    def _register(self) -> None:
        self._client.start()
        self._client.ensure_path(self._path)
        created: str = self._client.create(f"{self._path}/{NODE_PREFIX}", b"", ephemeral=True, sequence=True)
        self._node = created.rsplit("/", 1)[1]

    def _check(self) -> None:
        assert self._node is not None
        children = sorted(self._client.get_children(self._path))  # as strings, like the article
        index = children.index(self._node)
        if index == 0:
            self._waiting = False
            if not self._leading:
                self._leading = True
                if self._on_elected is not None:
                    self._on_elected()
            return
        predecessor = children[index - 1]
        if self._client.exists(f"{self._path}/{predecessor}", watch=self._on_watch) is None:
            self._events.put(_CHECK)  # gone between listing and watching: look again
            return
        self._waiting = True
