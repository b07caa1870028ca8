"""The election worker: one thread, one task queue, one scheduler.

kazoo's watch and connection callbacks only put a :class:`Task` on the queue;
the worker thread takes them one by one and is the only thread that makes
the ZooKeeper calls of the election. Everything that must happen *later*
(a failed check retried, the next lease renewal, a leader record that did not
hold, a status the observer refused) is a named timer of one
:class:`Scheduler`, with one back-off policy (:class:`Backoff`) for every
retry. Between tasks the worker sleeps until the earliest timer.

Liveness: the worker is busy from taking a task or a timer until it finishes
it; every bounded ZooKeeper call (:meth:`Worker.call`) that ends, answered or
timed out, counts as progress.
"""

from __future__ import annotations

import enum
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from kazoo.exceptions import OperationTimeoutError

from .lease import Clock

log = logging.getLogger("zkleader.election")


class Kind(enum.Enum):
    CHECK = "check"
    CONNECTION = "connection"
    PREDECESSOR = "predecessor"
    LEADER_RECORD = "leader-record"
    SWITCHOVER = "switchover"
    MEMBERS = "members"
    RESIGN = "resign"
    CLOSE = "close"


@dataclass(frozen=True)
class Task:
    kind: Kind
    detail: Any = None
    reply: Future[bool] | None = None


class Timer(enum.Enum):
    """The scheduler's timers, in the order they run when due together."""

    PUBLISH = "publish"  # offer the status to the observer again
    CHECK = "check"  # retry a failed check
    RENEW = "renew"  # renew the lease (not a retry: a fixed period)
    RECORD = "record"  # write the leader record (again)


@dataclass(frozen=True)
class Backoff:
    """The one back-off policy: ``initial`` doubling up to ``maximum``."""

    initial: float
    maximum: float

    def after(self, previous: float) -> float:
        return min(max(self.initial, previous * 2), self.maximum)


class Scheduler:
    """Named timers on the lease clock, each with its own back-off state.

    Worker thread only. ``retry`` schedules a timer after the next back-off
    step of that timer; ``succeeded`` resets its back-off and cancels it;
    ``at`` schedules a timer at a fixed delay (renewals, a write due now)."""

    def __init__(self, policy: Backoff, clock: Clock) -> None:
        self._policy = policy
        self._clock = clock
        self._due: dict[Timer, float] = {}
        self._backoff: dict[Timer, float] = {}

    def retry(self, timer: Timer) -> float:
        """Schedule ``timer`` after its next back-off; returns that back-off."""
        delay = self._backoff[timer] = self._policy.after(self._backoff.get(timer, 0.0))
        self._due[timer] = self._clock() + delay
        return delay

    def succeeded(self, timer: Timer) -> None:
        self._backoff.pop(timer, None)
        self._due.pop(timer, None)

    def after(self, timer: Timer, delay: float) -> None:
        self._due[timer] = self._clock() + delay

    def cancel(self, timer: Timer) -> None:
        self._due.pop(timer, None)

    def pending(self, timer: Timer) -> bool:
        return timer in self._due

    def idle_timeout(self) -> float | None:
        """How long the worker may sleep: until the earliest timer, or forever."""
        if not self._due:
            return None
        return max(0.0, min(self._due.values()) - self._clock())

    def pop_due(self) -> list[Timer]:
        now = self._clock()
        due = [t for t in Timer if t in self._due and self._due[t] <= now]
        for timer in due:
            del self._due[timer]
        return due


class Worker:
    """The thread, its queue, its scheduler and its liveness clock.

    ``handle(task)`` runs a task (False: stop the worker); ``on_timer(timer)``
    runs a due timer; ``on_error(exc)`` decides what a failed turn means;
    ``after_turn()`` runs after every turn, success or not."""

    def __init__(
        self,
        *,
        clock: Clock,
        policy: Backoff,
        handle: Callable[[Task], bool],
        on_timer: Callable[[Timer], None],
        on_error: Callable[[Exception], None],
        after_turn: Callable[[], None],
    ) -> None:
        self._clock = clock
        self._handle = handle
        self._on_timer = on_timer
        self._on_error = on_error
        self._after_turn = after_turn
        self.scheduler = Scheduler(policy, clock)
        self._tasks: queue.Queue[Task] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="election-worker", daemon=True)
        self._busy_since: float | None = None

    def start(self) -> None:
        self._thread.start()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float) -> None:
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def put(self, kind: Kind, detail: Any = None) -> None:
        """From any thread: queue a task."""
        self._tasks.put(Task(kind, detail))

    def ask(self, kind: Kind) -> Future[bool]:
        """From any thread: queue a task whose outcome the caller waits for."""
        reply: Future[bool] = Future()
        self._tasks.put(Task(kind, reply=reply))
        return reply

    def stalled_for(self) -> float:
        """Seconds since the worker last made progress (0 when idle)."""
        busy = self._busy_since
        return 0.0 if busy is None else max(0.0, self._clock() - busy)

    def call(self, pending: Any, timeout: float, timeout_exception: type[BaseException]) -> Any:
        """Wait for an async kazoo call, bounded by ``timeout`` (the session timeout).

        Each call that ends, answered or not, is progress for the liveness:
        a worker waiting on a slow ensemble is healthy, a wedged one is not."""
        self._busy_since = self._clock()
        try:
            return pending.get(timeout=timeout)
        except timeout_exception as exc:
            raise OperationTimeoutError(f"no reply within {timeout:.1f}s") from exc
        finally:
            self._busy_since = self._clock()

    def _run(self) -> None:
        while True:
            try:
                task: Task | None = self._tasks.get(timeout=self.scheduler.idle_timeout())
            except queue.Empty:
                task = None
            self._busy_since = self._clock()
            try:
                if task is not None and not self._handle(task):
                    return
                for timer in self.scheduler.pop_due():  # whatever is due, even while tasks keep coming
                    self._on_timer(timer)
            except Exception as exc:  # noqa: BLE001 - the worker must survive anything
                self._on_error(exc)
                if task is not None and task.reply is not None and not task.reply.done():
                    task.reply.set_exception(exc)
            finally:
                self._after_turn()
                self._busy_since = None
