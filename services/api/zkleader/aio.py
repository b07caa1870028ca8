"""The asyncio form of :class:`zkleader.LeaderElection`, over the same core.

::

    async with LeaderElection(client, "/app/leader", "worker-1") as election:
        await election.wait()
        async for status in election.changes():
            ...

Statuses are published on the election's threads (its worker, kazoo's event
thread); each is handed to the loop with ``loop.call_soon_threadsafe``, so
nothing here ever blocks the event loop. The blocking steps (close, resign,
the ZooKeeper reads) run in the loop's default executor. Closing the election
ends every :meth:`LeaderElection.changes` iterator.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any

from kazoo.client import KazooClient

from . import api
from .election import Fence, Identity, Participant, Status

_END = object()


class LeaderElection:
    """``LeaderElection(client, path, identifier, **options)``: the options of :class:`zkleader.LeaderElection`."""

    def __init__(self, client: KazooClient, path: str, identifier: str, **options: Any) -> None:
        self._election = api.LeaderElection(client, path, identifier, **options)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queues: set[asyncio.Queue[object]] = set()
        self._changed = asyncio.Event()  # created unbound; used on the loop only
        self._listening = False

    @property
    def sync(self) -> api.LeaderElection:
        """The thread-based election underneath (same participant)."""
        return self._election

    # ---------------------------------------------------------- lifecycle

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if not self._listening:
            self._election.add_listener(self._from_thread)
            self._listening = True
        self._election.start()  # returns at once

    async def close(self, timeout: float = 10.0) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, functools.partial(self._election.close, timeout))
        self._election.remove_listener(self._from_thread)
        self._wake()
        for queue in list(self._queues):
            queue.put_nowait(_END)

    async def resign(self, timeout: float = 10.0) -> bool:
        return await asyncio.get_running_loop().run_in_executor(None, functools.partial(self._election.resign, timeout))

    async def __aenter__(self) -> LeaderElection:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -------------------------------------------------------------- state

    @property
    def status(self) -> Status:
        return self._election.status

    @property
    def is_leader(self) -> bool:
        return self._election.is_leader

    @property
    def leader(self) -> str | None:
        return self._election.leader

    def fence(self) -> Fence | None:
        return self._election.fence()

    async def participants(self) -> list[Participant]:
        return await asyncio.get_running_loop().run_in_executor(None, self._election.participants)

    async def observers(self) -> list[Identity]:
        return await asyncio.get_running_loop().run_in_executor(None, self._election.observers)

    async def wait(self, timeout: float | None = None) -> bool:
        """True as soon as this participant leads; False after ``timeout`` or once closed."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            if self._election.is_leader:
                return True
            if self._election.closed:
                return False
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return False
            self._changed.clear()
            # Bounded like the thread form: a wait begun between two statuses.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), 0.5 if remaining is None else min(remaining, 0.5))

    async def changes(self) -> AsyncIterator[Status]:
        """Every new status from now on, in order; ends when the election is closed."""
        queue: asyncio.Queue[object] = asyncio.Queue()
        self._queues.add(queue)
        try:
            if self._election.closed:
                return
            while True:
                item = await queue.get()
                if item is _END:
                    return
                assert isinstance(item, Status)
                yield item
        finally:
            self._queues.discard(queue)

    # ------------------------------------------------ thread -> loop handoff

    def _from_thread(self, status: Status) -> None:
        """A listener on the election's publishing thread: never blocks."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        deliver: Callable[[], None] = functools.partial(self._deliver, status)
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(deliver)

    def _deliver(self, status: Status) -> None:
        self._wake()
        for queue in list(self._queues):
            queue.put_nowait(status)

    def _wake(self) -> None:
        self._changed.set()
