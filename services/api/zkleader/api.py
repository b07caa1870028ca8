"""The public library API: ``from zkleader import LeaderElection, Fence``.

A thin facade over the election core (:class:`zkleader.election.ElectionCore`),
built only on its public surface. What it adds: validation of every option
once, with clear errors; :meth:`LeaderElection.wait`; listeners with a stated
thread contract; :meth:`LeaderElection.run`, which hands a job its grant and
an event set the moment that grant ends; and the switchover request.

The caller owns the kazoo client: the election never starts, stops or closes
it. Pass it started or not; the election takes part once it is connected and
leaves it connected on :meth:`LeaderElection.close`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar, cast

from kazoo.client import KazooClient
from kazoo.security import ACL

from .election import ElectionCore, ElectionTimings, Fence, Identity, Liveness, Participant, Status
from .election.lease import now as lease_clock
from .election.switchover import (
    Requested,
    SwitchoverRefused,
    SwitchoverRequester,
    SwitchoverResult,
    designation_duration,
    switchover_wait,
)

log = logging.getLogger("zkleader.api")

T = TypeVar("T")
Listener = Callable[[Status], object]
"""``listener(status)``: called with every new :class:`Status` snapshot."""

# What the election calls on a client: a KazooClient, or a test double with
# the same surface (:class:`zkleader.testing.FakeKazooClient`).
_CLIENT_SURFACE = ("add_listener", "remove_listener", "get_children", "get_async", "create_async", "delete_async")


@dataclass(frozen=True)
class Leadership:
    """One grant, as :meth:`LeaderElection.run` hands it to its job.

    ``fence``: the grant's member node and epoch; put ``check(fence.member_path)``
    in the transaction of every leader-only ZooKeeper write, and pass
    ``fence.epoch`` as the fencing token to anything else. ``lost`` is set the
    moment the grant ends (suspension, lease expiry, session loss, resign,
    close): a job checks it between steps and returns once it is set.
    """

    fence: Fence
    lost: threading.Event = field(default_factory=threading.Event, compare=False)

    @property
    def epoch(self) -> int:
        return self.fence.epoch


def _validated_client(client: object) -> Any:
    if isinstance(client, KazooClient) or all(callable(getattr(client, m, None)) for m in _CLIENT_SURFACE):
        return client
    raise TypeError(f"client must be a kazoo.client.KazooClient, not {type(client).__name__}")


def _validated_identifier(identifier: object) -> str:
    if not isinstance(identifier, str):
        raise TypeError(f"identifier must be a str, not {type(identifier).__name__}")
    if not identifier.strip():
        raise ValueError("identifier must be a non-empty string (it names this participant to everyone)")
    return identifier


class LeaderElection:
    """Takes part in the election under ``path`` with the caller's kazoo client.

    ``LeaderElection(client, path, identifier, **options)``; ``identifier``
    is any non-empty string, shown to everyone as who leads. Options (all
    keyword-only; see docs/library.md for the table): ``address`` (``""``),
    ``acl`` (open), ``timings`` (:class:`ElectionTimings`), ``track_leader``
    (True), ``observer`` (False), and the core's worker-thread hooks
    ``on_elected(epoch, elected_at)``, ``on_revoked(reason, ended_at)`` and
    ``on_status(status)`` (a raising ``on_status`` is offered the status again
    after a back-off).

    Listeners (:meth:`add_listener`): called once per new :attr:`status`
    snapshot, in order. Without an executor a listener runs on the thread
    that publishes the status: the election worker, or kazoo's event thread
    when the connection is suspended or lost. It must not block (it holds
    back the election, or every kazoo callback) and must not call
    :meth:`resign` or :meth:`close`. With an executor, the call is submitted
    there instead. An exception from a listener is logged and ignored: it
    never reaches another listener or the election (as kazoo guards its own
    state listeners).
    """

    def __init__(
        self,
        client: KazooClient,
        path: str,
        identifier: str,
        *,
        address: str = "",
        acl: Sequence[ACL] | None = None,
        timings: ElectionTimings | None = None,
        track_leader: bool = True,
        observer: bool = False,
        on_elected: Callable[[int, float], None] | None = None,
        on_revoked: Callable[[str, float], None] | None = None,
        on_status: Callable[[Status], None] | None = None,
    ) -> None:
        self._client = _validated_client(client)
        identifier = _validated_identifier(identifier)
        if not isinstance(address, str):
            raise TypeError(f"address must be a str, not {type(address).__name__}")
        if timings is not None and not isinstance(timings, ElectionTimings):
            raise TypeError(f"timings must be an ElectionTimings, not {type(timings).__name__}")
        if acl is not None and (isinstance(acl, str | bytes) or not all(isinstance(a, ACL) for a in acl)):
            raise TypeError("acl must be a sequence of kazoo.security.ACL (see election_acl)")
        for name, hook in (("on_elected", on_elected), ("on_revoked", on_revoked), ("on_status", on_status)):
            if hook is not None and not callable(hook):
                raise TypeError(f"{name} must be callable")
        self._identifier = identifier
        self._user_on_status = on_status
        self._changed = threading.Condition()
        self._listeners: list[tuple[Listener, Executor | None]] = []
        self._listeners_lock = threading.Lock()
        self._last_fired: Status | None = None
        self._started = False
        self._closed = False
        self._core = ElectionCore(
            self._client,
            path,
            Identity(identifier, address, time.time()),
            acl=acl,
            timings=timings,
            on_elected=on_elected,
            on_revoked=on_revoked,
            on_status=self._on_core_status,
            track_leader=bool(track_leader),
            observer=bool(observer),
        )

    # ---------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Join the election; returns at once, even if ZooKeeper is unreachable."""
        if self._closed:
            raise RuntimeError("this election is closed; create a new one")
        self._started = True
        self._core.start()

    def close(self, timeout: float = 10.0, *, after_handover: Callable[[], None] | None = None) -> None:
        """Leave: end the term and delete our node, so a successor leads at once.

        The caller's client stays connected. Never raises for a timeout.
        ``after_handover`` runs on the election worker right after the node's
        deletion (bounded last writes that need the session)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._core.close(timeout, after_handover=after_handover)
        finally:
            with self._changed:
                self._changed.notify_all()

    def resign(self, timeout: float = 10.0) -> bool:
        """Hand leadership to the next member and re-enrol at the tail; False when not leading."""
        return self._core.resign(timeout)

    def __enter__(self) -> LeaderElection:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -------------------------------------------------------------- state

    @property
    def identifier(self) -> str:
        return self._identifier

    @property
    def identity(self) -> Identity:
        return self._core.identity

    @property
    def path(self) -> str:
        return self._core.path

    @property
    def acl(self) -> list[ACL]:
        return self._core.acl

    @property
    def client(self) -> KazooClient:
        """The caller's kazoo client (its session holds our member node)."""
        return cast(KazooClient, self._client)

    @property
    def is_observer(self) -> bool:
        return self._core.is_observer

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def status(self) -> Status:
        """The latest immutable snapshot (never touches ZooKeeper)."""
        return self._core.status

    @property
    def is_leader(self) -> bool:
        """True only while elected, connected and within the lease, now."""
        return self._core.is_leader

    @property
    def leader(self) -> str | None:
        """The current leader's identifier as this participant knows it, or None."""
        if self._core.is_leader:
            return self._identifier
        info = self._core.status.leader
        return info.instance if info is not None else None

    def fence(self) -> Fence | None:
        """The current grant's member node and epoch (one snapshot), or None when not leading now."""
        return self._core.fence()

    def liveness(self) -> Liveness:
        return self._core.liveness()

    def participants(self) -> list[Participant]:
        """All members in election order, read live from ZooKeeper."""
        return self._core.participants()

    def observers(self) -> list[Identity]:
        """The registered observers, read live from ZooKeeper."""
        return self._core.observers()

    # -------------------------------------------------------------- waiting

    def wait(self, timeout: float | None = None) -> bool:
        """True as soon as this participant leads; False after ``timeout`` seconds or once closed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while True:
                if self._core.is_leader:
                    return True
                if self._closed:
                    return False
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                # Woken by every status; the bound covers a lease renewed
                # without a new status and a wait begun between two checks.
                self._changed.wait(0.5 if remaining is None else min(remaining, 0.5))

    def run(self, work: Callable[[Leadership], T]) -> T:
        """Block until elected, then return ``work(leadership)``; resign afterwards.

        Starts the election if it is not started (and leaves it running).
        ``leadership.lost`` is set the moment the grant ends, from whichever
        thread sees it (a status change, or a timer at the lease's end for a
        leader frozen without any status). When ``work`` returns or raises,
        the election resigns (the next member leads) and ``run`` returns its
        value or re-raises. Raises ``RuntimeError`` if the election is closed
        before it leads.
        """
        if not self._started:
            self.start()
        while True:
            if not self.wait():
                raise RuntimeError("the election was closed before this participant led")
            grant = self._core.fence()
            if grant is not None:
                break
        leadership = Leadership(grant)
        done = threading.Event()
        watcher = threading.Thread(
            target=self._watch_grant, args=(leadership, done), name="leadership-watch", daemon=True
        )
        watcher.start()
        try:
            result = work(leadership)
        except BaseException:
            self._end_run(leadership, done, watcher)
            raise
        self._end_run(leadership, done, watcher)
        return result

    def _end_run(self, leadership: Leadership, done: threading.Event, watcher: threading.Thread) -> None:
        done.set()
        with self._changed:
            self._changed.notify_all()
        watcher.join()
        leadership.lost.set()
        if self._closed:
            return
        try:
            self._core.resign(self._core.status.session_timeout)
        except Exception:
            log.exception("resigning after the leader's job failed")

    def _watch_grant(self, leadership: Leadership, done: threading.Event) -> None:
        """Sets ``lost`` once the grant is no longer ours: on every status, and
        at the lease's end (no status is published when a frozen leader's lease
        simply runs out)."""
        with self._changed:
            while not done.is_set():
                if self._core.fence() != leadership.fence:
                    leadership.lost.set()
                    return
                deadline = self._core.status.lease_deadline
                wait = 0.05 if deadline is None else max(0.0, deadline - lease_clock()) + 0.001
                self._changed.wait(min(wait, 1.0))

    # ------------------------------------------------------------ listeners

    def add_listener(self, callback: Listener, executor: Executor | None = None) -> None:
        """Call ``callback(status)`` on every new status (see the class docstring for the thread)."""
        if not callable(callback):
            raise TypeError("callback must be callable")
        with self._listeners_lock:
            self._listeners.append((callback, executor))

    def remove_listener(self, callback: Listener) -> None:
        with self._listeners_lock:
            self._listeners = [(c, e) for c, e in self._listeners if c is not callback]

    def _on_core_status(self, status: Status) -> None:
        """The core's publisher (worker or kazoo event thread, one at a time)."""
        if self._user_on_status is not None:
            self._user_on_status(status)  # may raise: the core offers the status again
        with self._changed:
            self._changed.notify_all()
        with self._listeners_lock:
            if status == self._last_fired:
                return
            self._last_fired = status
            listeners = list(self._listeners)
        for callback, executor in listeners:
            if executor is None:
                _guarded(callback, status)
                continue
            try:
                executor.submit(_guarded, callback, status)
            except Exception:
                log.exception("could not submit a status listener to its executor")

    # ----------------------------------------------------------- switchover

    def request_switchover(self, candidate: str, *, known: Callable[[], set[str]] = set) -> Requested:
        """Designate ``candidate`` (a member's identifier) to lead next.

        The leader and every lowest member but the candidate step aside until
        it leads. Raises :class:`SwitchoverRefused` (``kind``: ``not-eligible``,
        ``busy``, ``no-leader``) before writing anything. Withdraw the request
        with :meth:`withdraw_switchover` once done or given up; it expires by
        itself otherwise (and with our session)."""
        timeout = self._core.status.session_timeout
        requester = SwitchoverRequester(self._core, timeout)
        return requester.request(candidate, self._identifier, designation_duration(timeout), known)

    def withdraw_switchover(self, requested: Requested) -> bool:
        """Delete our designation if it still stands; True if it did."""
        return SwitchoverRequester(self._core, self._core.status.session_timeout).withdraw(requested)

    def switchover(self, candidate: str, timeout: float | None = None) -> SwitchoverResult:
        """Request a switchover to ``candidate``, wait until this participant
        sees it lead with a new epoch (default bound: 2 T, at least 5 s), and
        always withdraw the request."""
        session_timeout = self._core.status.session_timeout
        bound = switchover_wait(session_timeout) if timeout is None else timeout
        asked = time.monotonic()
        try:
            requested = self.request_switchover(candidate)
        except SwitchoverRefused as refused:
            return SwitchoverResult(refused.kind, str(refused))
        try:
            with self._changed:
                while time.monotonic() - asked < bound:
                    info = self._core.status.leader
                    if info is not None and info.instance == candidate and info.epoch > requested.previous_epoch:
                        seconds = round(time.monotonic() - asked, 3)
                        detail = {"leader": candidate, "epoch": info.epoch, "seconds": seconds}
                        return SwitchoverResult("done", f"{candidate} leads", detail)
                    self._changed.wait(0.05)
        finally:
            self.withdraw_switchover(requested)
        return SwitchoverResult("not-completed", f"switchover to {candidate} did not complete within {bound:g} s")


def _guarded(callback: Listener, status: Status) -> None:
    try:
        callback(status)
    except Exception:
        log.exception("status listener %r failed", callback)
