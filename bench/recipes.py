"""Election recipes side by side on one real ZooKeeper: same harness, run, machine.

Recipes: ``ours`` (:class:`zkleader.election.LeaderElection`, default timings,
as the service runs it), ``ours-election-only`` (the same with
``track_leader=False``: no leader record, so only the election's own watch),
``kazoo`` (:class:`kazoo.recipe.election.Election`) and ``naive`` (the seed
article's recipe, :mod:`bench.naive`). Every participant has its own
``KazooClient`` (own session, 4 s session timeout for all three) in this one
process. For each recipe and N, N participants join a fresh election path,
then the harness closes the leader gracefully ``handoffs`` times, starting a
fresh participant at the tail after each handoff so that N stays constant.

What is measured, and how (the same way for every recipe):

* **handoff latency**: ``time.monotonic()`` just before the harness triggers
  the leader's close, to the successor's elected callback (ours
  ``on_elected``; kazoo: its ``func`` starts; naive: ``on_elected``);
* **watch notifications**: every client's ``handler.dispatch_callback`` is
  wrapped and counts callbacks with ``type == "watch"`` (in kazoo 2.11.0 this
  is how both real events, ``ConnectionHandler._read_watch_event``, and the
  ``NONE`` events of ``KazooClient._reset_watchers`` reach the handler);
  split by the callback they go to: predecessor watches vs the rest (for ours,
  the followers' watch on the leader record); ours' own
  ``status.election_notifications`` is reported as a cross-check;
* **requests**: every client's ``_call(request, async_object)`` is wrapped and
  counts requests by type (``+watch`` when they set a watch); ``stop()`` is
  wrapped to count the ``Close`` that kazoo queues without ``_call``; pings
  are counted apart (``ConnectionHandler._send_ping``). A handoff's window is
  trigger .. max(successor elected + 300 ms, leader's close returned), summed
  over all clients, closing leader included, nothing subtracted. Requests
  that arrive after the window, before the next participant joins, are
  reported as ``after_window`` so that nothing is silently lost;
* **idle traffic**: requests per second for a few seconds after setup, the
  leader's apart (ours renews its lease with ``sync`` + ``exists`` every T/8);
* **overlap**: every participant records when it believed it led (ours:
  ``on_elected`` .. ``on_revoked``; kazoo: ``func`` start .. return; naive:
  elected .. close); any two intervals of different participants that overlap
  are counted;
* **setup**: from the first ``start()`` to the first elected callback, and to
  all N participants enrolled (polled every 5 ms).

Needs a ZooKeeper that accepts more than N + 1 connections from one address:
the default ``maxClientCnxns`` is 60 per client IP, and all connections come
from the Docker bridge's gateway address; ``tests/compose.zk.yaml`` sets 250.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, Protocol

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException
from kazoo.protocol.states import Callback

from bench.naive import NaiveLeaderElection
from bench.stats import summary
from zkleader.election import ElectionState, Identity, LeaderElection

SESSION_TIMEOUT = 4.0
"""Seconds, for every recipe (the article's 30 s would only make the naive recipe's failures slower)."""
SETTLE = 0.3
"""Seconds after the successor is elected that still belong to the handoff (stragglers)."""
QUIET = 0.3
"""Seconds without election traffic that count as "settled" between steps."""
IDLE_SECONDS = 4.0
ELECTION_TIMEOUT = 30.0
JOIN_TIMEOUT = 120.0
BASE_PATH = "/zkleader-bench/recipes"
RECIPES = ("ours", "ours-election-only", "kazoo", "naive")

REQUEST, WATCH, PING = "request", "watch", "ping"
# Names of the watch callbacks that a predecessor's deletion wakes, per recipe.
PREDECESSOR_CALLBACKS = frozenset({"_on_predecessor_event", "_watch_predecessor", "_on_watch"})

log = logging.getLogger("bench.recipes")

Event = tuple[float, int, str, str]
"""``(monotonic time, participant id, kind, name)``"""


class BenchError(RuntimeError):
    """The run could not go on (no successor, a participant never joined...)."""


# --------------------------------------------------------------- recording


@dataclass
class Interval:
    pid: int
    start: float
    end: float | None = None


@dataclass
class Recorder:
    """Everything measured in one (recipe, N) run; written from many threads.

    ``events`` only ever grows (``list.append`` is atomic), so a reader that
    notes ``len(events)`` before an instant ``t`` finds every event stamped
    after ``t`` at or beyond that index.
    """

    events: list[Event] = field(default_factory=list)
    elections: list[tuple[float, int]] = field(default_factory=list)
    intervals: list[Interval] = field(default_factory=list)
    anomalies: list[str] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def instrument(self, client: KazooClient, pid: int) -> None:
        """Wrap one client's request, watch-dispatch, stop and ping paths to count them."""
        events = self.events
        original_call = client._call

        def counted_call(request: Any, async_object: Any) -> Any:
            now = time.monotonic()
            result = original_call(request, async_object)
            if result is not False:  # False: short-circuited (closed / expired), nothing was queued
                name = type(request).__name__
                if getattr(request, "watcher", None) is not None:
                    name += "+watch"
                events.append((now, pid, REQUEST, name))
            return result

        client._call = counted_call

        handler = client.handler
        original_dispatch = handler.dispatch_callback

        def counted_dispatch(callback: Callback) -> Any:
            if callback.type == "watch":
                events.append((time.monotonic(), pid, WATCH, _watch_label(callback)))
            return original_dispatch(callback)

        handler.dispatch_callback = counted_dispatch

        original_stop = client.stop

        def counted_stop() -> Any:
            if not client._stopped.is_set():  # stop() queues a Close request directly, bypassing _call
                events.append((time.monotonic(), pid, REQUEST, "Close"))
            return original_stop()

        client.stop = counted_stop

        connection = client._connection
        original_ping = connection._send_ping

        def counted_ping(connect_timeout: float) -> Any:
            events.append((time.monotonic(), pid, PING, "Ping"))
            return original_ping(connect_timeout)

        connection._send_ping = counted_ping

    def elected(self, pid: int) -> None:
        now = time.monotonic()
        with self._cond:
            if any(i.pid == pid and i.end is None for i in self.intervals):
                self.anomalies.append(f"p{pid} elected while already leading")
            self.intervals.append(Interval(pid, now))
            self.elections.append((now, pid))
            self._cond.notify_all()

    def ended(self, pid: int, reason: str) -> None:
        now = time.monotonic()
        with self._cond:
            open_ = [i for i in self.intervals if i.pid == pid and i.end is None]
            if not open_:
                self.anomalies.append(f"p{pid} stepped down ({reason}) without leading")
            for interval in open_:
                interval.end = now
            if reason != "closed":
                self.anomalies.append(f"p{pid} stepped down: {reason}")

    def leaders(self) -> list[int]:
        with self._cond:
            return [i.pid for i in self.intervals if i.end is None]

    def wait_election(self, after: float, exclude: int | None, timeout: float) -> tuple[float, int] | None:
        """The first election at or after ``after`` of anyone but ``exclude``."""
        deadline = time.monotonic() + timeout

        def found() -> tuple[float, int] | None:
            return next(((t, p) for t, p in self.elections if t >= after and p != exclude), None)

        with self._cond:
            while (hit := found()) is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
            return hit

    def wait_quiet(self, quiet: float = QUIET, timeout: float = 10.0) -> bool:
        """Wait until no request or watch happened for ``quiet`` seconds.

        The current leader's ``Sync``/``Exists`` (ours' lease renewal, every
        0.5 s) do not break the quiet; pings never do.
        """
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            leaders = set(self.leaders())
            last = next(
                (
                    e[0]
                    for e in reversed(self.events)
                    if e[2] != PING and not (e[2] == REQUEST and e[1] in leaders and e[3] in ("Sync", "Exists"))
                ),
                None,
            )
            if last is None or now - last >= quiet:
                return True
            if now >= deadline:
                return False
            time.sleep(min(0.05, max(0.005, quiet - (now - last))))


def _watch_label(callback: Callback) -> str:
    func = callback.func
    name = getattr(func, "__name__", type(func).__name__)
    event = callback.args[0] if callback.args else None
    return f"{name}:{getattr(event, 'type', '?')}"


def _watch_category(label: str) -> str:
    name, _, event_type = label.partition(":")
    if event_type == "NONE":
        return "session_reset"  # fired by kazoo itself when a client stops or loses its connection
    return "predecessor" if name in PREDECESSOR_CALLBACKS else "other"


# ------------------------------------------------------------ participants


class Contender(Protocol):
    """What the harness needs from a participant of any recipe."""

    pid: int
    client: KazooClient

    def start(self) -> None:
        """Begin joining; returns at once."""

    def joined(self) -> bool:
        """Enrolled and either leading or waiting on its predecessor."""

    def close(self) -> None:
        """Graceful leave: step down, give the node up, close the session. Blocks until done."""

    def notifications(self) -> int | None:
        """The recipe's own count of election notifications, if it keeps one."""


def _client(hosts: str) -> KazooClient:
    return KazooClient(hosts=hosts, timeout=SESSION_TIMEOUT)


class OursContender:
    """Our recipe as the service runs it (followers track the leader record)."""

    track_leader = True

    def __init__(self, pid: int, hosts: str, path: str, recorder: Recorder) -> None:
        self.pid = pid
        self.client = _client(hosts)
        recorder.instrument(self.client, pid)
        self.election = LeaderElection(
            self.client,
            path,
            Identity(instance=f"p{pid}", address=f"127.0.0.1:{10000 + pid}", started_at=time.time()),
            on_elected=lambda epoch, at: recorder.elected(pid),
            on_revoked=lambda reason, at: recorder.ended(pid, reason),
            track_leader=self.track_leader,
        )

    def start(self) -> None:
        # The client is ours, not the election's: started after it, closed after it.
        self.election.start()
        self.client.start_async()

    def joined(self) -> bool:
        status = self.election.status
        return status.enrolled and status.state in (ElectionState.FOLLOWER, ElectionState.LEADER)

    def close(self) -> None:
        self.election.close()  # deletes our node: the hand-over
        self.client.stop()
        self.client.close()

    def notifications(self) -> int | None:
        return self.election.status.election_notifications


class KazooContender:
    """``Election.run(func)`` on its own thread; ``func`` leads until told to return."""

    def __init__(self, pid: int, hosts: str, path: str, recorder: Recorder) -> None:
        self.pid = pid
        self.client = _client(hosts)
        recorder.instrument(self.client, pid)
        self._path = path
        self._recorder = recorder
        self._release = threading.Event()
        self._closing = threading.Event()
        self._leading = False
        self._election: Any = None
        self._thread = threading.Thread(target=self._run, name=f"kazoo-election-{pid}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            self.client.start()
            if self._closing.is_set():
                return
            self._election = self.client.Election(self._path, f"p{self.pid}")
            self._election.run(self._lead)
        except Exception as exc:  # noqa: BLE001 - report, the harness notices the missing participant
            if not self._closing.is_set():
                log.warning("kazoo contender p%d failed: %s: %s", self.pid, type(exc).__name__, exc)

    def _lead(self) -> None:
        self._recorder.elected(self.pid)
        self._leading = True
        self._release.wait()
        self._leading = False
        self._recorder.ended(self.pid, "closed")

    def joined(self) -> bool:
        election = self._election
        if election is None:
            return False
        return self._leading or (election.lock.node is not None and any(self.client._data_watchers.values()))

    def close(self) -> None:
        self._closing.set()
        self._release.set()  # a leader's func returns: the lock is released (its node deleted)
        if self._election is not None:
            self._election.cancel()  # a contender stops waiting (and deletes its node)
        self._thread.join(ELECTION_TIMEOUT)
        self.client.stop()
        self.client.close()

    def notifications(self) -> int | None:
        return None


class NaiveContender:
    def __init__(self, pid: int, hosts: str, path: str, recorder: Recorder) -> None:
        self.pid = pid
        self.client = _client(hosts)
        recorder.instrument(self.client, pid)
        self.election = NaiveLeaderElection(
            self.client,
            path,
            on_elected=lambda: recorder.elected(pid),
            on_stepped_down=lambda: recorder.ended(pid, "closed"),
        )

    def start(self) -> None:
        self.election.start()

    def joined(self) -> bool:
        return self.election.enrolled

    def close(self) -> None:
        self.election.close()

    def notifications(self) -> int | None:
        return None


Factory = Callable[[int, str, str, Recorder], Contender]


class OursElectionOnlyContender(OursContender):
    """Our recipe with ``track_leader=False``: the election alone, like the others."""

    track_leader = False


FACTORIES: dict[str, Factory] = {
    "ours": OursContender,
    "ours-election-only": OursElectionOnlyContender,
    "kazoo": KazooContender,
    "naive": NaiveContender,
}


# ---------------------------------------------------------------- analysis


def _between(events: Sequence[Event], start_index: int, t0: float, t1: float) -> list[Event]:
    return [e for e in events[start_index:] if t0 <= e[0] <= t1]


def _analyse_handoff(
    events: Sequence[Event], start_index: int, t0: float, t1: float, leader: int, successor: int, elected_at: float
) -> dict[str, Any]:
    """Counts and phase timings of one handoff window."""
    window = _between(events, start_index, t0, t1)
    requests = Counter(e[3] for e in window if e[2] == REQUEST)
    watches = Counter(_watch_category(e[3]) for e in window if e[2] == WATCH)
    watch_labels = Counter(e[3] for e in window if e[2] == WATCH)
    by_role: Counter[str] = Counter()
    for e in window:
        if e[2] == REQUEST:
            by_role["closing_leader" if e[1] == leader else "successor" if e[1] == successor else "others"] += 1
    delete_sent = next((e[0] for e in window if e[1] == leader and e[2] == REQUEST and e[3] == "Delete"), None)
    woken = next(
        (e[0] for e in window if e[1] == successor and e[2] == WATCH and _watch_category(e[3]) == "predecessor"),
        None,
    )
    successor_path = [
        e[3]
        for e in window
        if e[1] == successor and e[2] == REQUEST and woken is not None and woken <= e[0] <= elected_at
    ]

    def ms(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else round((b - a) * 1000, 3)

    timeline = [
        [f"{'leader' if e[1] == leader else 'successor'} {e[2]} {e[3]}", round((e[0] - t0) * 1000, 3)]
        for e in window
        if e[0] <= elected_at and e[1] in (leader, successor) and e[2] != PING
    ]
    timeline.append(["successor elected", round((elected_at - t0) * 1000, 3)])
    # The successor's path from its wake-up to its elected callback, step by step (where its time goes).
    steps: list[tuple[str, float]] = []
    if woken is not None:
        steps = [("woken", woken)]
        steps += [(e[3], e[0]) for e in window if e[1] == successor and e[2] == REQUEST and woken <= e[0] <= elected_at]
        steps.append(("elected", elected_at))
    successor_steps = [[f"{a} -> {b}", round((tb - ta) * 1000, 3)] for (a, ta), (b, tb) in pairwise(steps)]
    return {
        "latency_ms": round((elected_at - t0) * 1000, 3),
        "timeline_ms": sorted(timeline, key=lambda item: item[1]),
        "window_ms": round((t1 - t0) * 1000, 1),
        "requests": sum(requests.values()),
        "requests_by_type": dict(requests),
        "requests_by_role": dict(by_role),
        "watches": sum(watches.values()),
        "watches_by_category": dict(watches),
        "watches_by_callback": dict(watch_labels),
        "phases_ms": {
            "trigger_to_delete_sent": ms(t0, delete_sent),
            "delete_sent_to_successor_watch": ms(delete_sent, woken),
            "successor_watch_to_elected": ms(woken, elected_at),
        },
        "successor_requests_before_elected": successor_path,
        "successor_steps_ms": successor_steps,
    }


def _overlaps(intervals: Iterable[Interval], until: float) -> dict[str, Any]:
    """Pairs of leadership intervals of different participants that overlap in time."""
    spans = sorted((i.start, i.end if i.end is not None else until, i.pid) for i in intervals)
    count, worst, pairs = 0, 0.0, []
    for a, (_, end_a, pid_a) in enumerate(spans):
        for start_b, end_b, pid_b in spans[a + 1 :]:
            if start_b >= end_a:
                break
            if pid_b != pid_a:
                overlap = min(end_a, end_b) - start_b
                count += 1
                worst = max(worst, overlap)
                pairs.append({"a": pid_a, "b": pid_b, "overlap_ms": round(overlap * 1000, 3)})
    return {
        "intervals": len(spans),
        "overlapping_pairs": count,
        "max_overlap_ms": round(worst * 1000, 3),
        "pairs": pairs[:20],
    }


def _mean_counter(counters: Sequence[dict[str, int]]) -> dict[str, float]:
    total: Counter[str] = Counter()
    for c in counters:
        total.update(c)
    return {k: round(v / len(counters), 2) for k, v in sorted(total.items())} if counters else {}


def _per_handoff(values: Sequence[float]) -> dict[str, float | int | None]:
    s = summary(values)
    return {"mean": s["mean"], "min": s["min"], "max": s["max"]}


# ----------------------------------------------------------------- running


class _WarningCounter(logging.Handler):
    """Counts warnings by logger and message template: surprises show up in the results."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[f"{record.name}: {record.msg}"] += 1


def _wait_until(check: Callable[[], bool], timeout: float, what: str) -> float:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.005)
    return time.monotonic()


def run_recipe(
    recipe: str, hosts: str, n: int, handoffs: int, path: str, *, idle_seconds: float = IDLE_SECONDS
) -> dict[str, Any]:
    """One recipe at one N on a fresh election path; always closes its clients."""
    factory = FACTORIES[recipe]
    rec = Recorder()
    alive: dict[int, Contender] = {}
    next_pid = 0
    records: list[dict[str, Any]] = []
    result: dict[str, Any] = {"recipe": recipe, "n": n, "path": path, "session_timeout_s": SESSION_TIMEOUT}
    started = time.monotonic()

    def spawn() -> Contender:
        nonlocal next_pid
        contender = factory(next_pid, hosts, path, rec)
        alive[next_pid] = contender
        next_pid += 1
        contender.start()
        return contender

    try:
        # Setup: N starts back to back, each returns at once.
        index = len(rec.events)
        t_setup = time.monotonic()
        for _ in range(n):
            spawn()
        first = rec.wait_election(t_setup, None, JOIN_TIMEOUT)
        if first is None:
            raise BenchError("no first leader")
        try:
            t_all = _wait_until(lambda: all(c.joined() for c in alive.values()), JOIN_TIMEOUT, f"{n} to join")
        except BenchError as exc:
            connected = sum(1 for c in alive.values() if c.client.connected)
            raise BenchError(
                f"{exc}; {connected} of {n} clients connected (ZooKeeper's maxClientCnxns, 60 per address by default?)"
            ) from exc
        settled = rec.wait_quiet()
        t_quiet = time.monotonic()
        setup_requests = Counter(e[3] for e in _between(rec.events, index, t_setup, t_quiet) if e[2] == REQUEST)
        result["setup"] = {
            "first_leader_ms": round((first[0] - t_setup) * 1000, 1),
            "all_joined_ms": round((t_all - t_setup) * 1000, 1),
            "settled": settled,
            "requests": sum(setup_requests.values()),
            "requests_by_type": dict(setup_requests),
        }

        # Idle: what a settled election costs per second.
        leader = rec.leaders()[0]
        index = len(rec.events)
        t_idle = time.monotonic()
        time.sleep(idle_seconds)
        t_idle_end = time.monotonic()
        idle = _between(rec.events, index, t_idle, t_idle_end)
        seconds = max(t_idle_end - t_idle, 1e-9)
        leader_requests = Counter(e[3] for e in idle if e[2] == REQUEST and e[1] == leader)
        result["idle"] = {
            "seconds": round(seconds, 2),
            "leader_requests_per_s": round(sum(leader_requests.values()) / seconds, 2),
            "leader_requests_by_type_per_s": {k: round(v / seconds, 2) for k, v in leader_requests.items()},
            "all_requests_per_s": round(sum(1 for e in idle if e[2] == REQUEST) / seconds, 2),
            "watches_per_s": round(sum(1 for e in idle if e[2] == WATCH) / seconds, 2),
            "pings_per_s_all_clients": round(sum(1 for e in idle if e[2] == PING) / seconds, 2),
        }

        for h in range(handoffs):
            leaders = rec.leaders()
            if len(leaders) != 1:
                raise BenchError(f"handoff {h}: {len(leaders)} leaders before the trigger: {leaders}")
            leader = leaders[0]
            members = list(alive.values())
            before = [c.notifications() for c in members]
            index = len(rec.events)
            t0 = time.monotonic()
            alive.pop(leader).close()
            t_closed = time.monotonic()
            elected = rec.wait_election(t0, leader, ELECTION_TIMEOUT)
            if elected is None:
                raise BenchError(f"handoff {h}: no successor within {ELECTION_TIMEOUT:.0f}s")
            t_elected, successor = elected
            t1 = max(t_elected + SETTLE, t_closed)
            time.sleep(max(0.0, t1 - time.monotonic()))
            record = _analyse_handoff(rec.events, index, t0, t1, leader, successor, t_elected)
            record["close_call_ms"] = round((t_closed - t0) * 1000, 3)
            after = [c.notifications() for c in members]
            if all(x is not None for x in before + after):
                record["election_notifications"] = sum(a for a in after if a is not None) - sum(
                    b for b in before if b is not None
                )
            record["settled"] = rec.wait_quiet()
            late = _between(rec.events, index, t1 + 1e-9, time.monotonic())
            record["after_window"] = {
                "requests": dict(Counter(e[3] for e in late if e[2] == REQUEST)),
                "watches": dict(Counter(e[3] for e in late if e[2] == WATCH)),
            }
            records.append(record)
            # Keep N constant: a fresh participant at the tail, joined and settled before the next trigger.
            tail = spawn()
            _wait_until(tail.joined, JOIN_TIMEOUT, f"p{tail.pid} to join")
            rec.wait_quiet()
    except BenchError as exc:
        result["error"] = str(exc)
        log.error("%s N=%d: %s", recipe, n, exc)
    finally:
        result["elections_before_cleanup"] = len(rec.elections)
        _close_all(alive, rec)
        result["overlap"] = _overlaps(rec.intervals, time.monotonic())
        result["anomalies"] = rec.anomalies[:50]
        _delete_path(hosts, path)
    result["elapsed_s"] = round(time.monotonic() - started, 1)
    _summarise(result, records)
    return result


def _warm_up(hosts: str, path: str) -> dict[str, Any]:
    """A short unrecorded round of every recipe first: JIT, caches and imports warm for all alike."""
    started = time.monotonic()
    for recipe in RECIPES:
        outcome = run_recipe(recipe, hosts, 3, 2, f"{path}/{recipe}", idle_seconds=0.0)
        if outcome.get("error"):
            raise BenchError(f"warm-up of {recipe} failed: {outcome['error']}")
    return {"recipes": list(RECIPES), "n": 3, "handoffs": 2, "elapsed_s": round(time.monotonic() - started, 1)}


def _close_all(alive: dict[int, Contender], rec: Recorder) -> None:
    """Followers first, newest first (few successors to wake), then the leader."""
    leaders = set(rec.leaders())
    order = sorted(alive, key=lambda pid: (pid in leaders, -pid))
    for pid in order:
        try:
            alive.pop(pid).close()
        except Exception as exc:  # noqa: BLE001 - cleanup must go on
            log.warning("closing p%d failed: %s: %s", pid, type(exc).__name__, exc)


def _delete_path(hosts: str, path: str) -> None:
    client = _client(hosts)
    try:
        client.start(timeout=15)
        client.delete(path, recursive=True)
    except KazooException as exc:
        log.warning("could not delete %s: %s", path, exc)
    finally:
        client.stop()
        client.close()


def _summarise(result: dict[str, Any], records: list[dict[str, Any]]) -> None:
    latencies = [r["latency_ms"] for r in records]
    result["handoffs"] = len(records)
    result["latency_ms"] = {**summary(latencies), "raw": latencies}
    phases = {
        name: summary([r["phases_ms"][name] for r in records if r["phases_ms"][name] is not None])
        for name in ("trigger_to_delete_sent", "delete_sent_to_successor_watch", "successor_watch_to_elected")
    }
    result["latency_phases_ms"] = phases
    result["close_call_ms"] = summary([r["close_call_ms"] for r in records])
    categories = {"predecessor", "other", "session_reset"}
    result["watches_per_handoff"] = {
        "total": _per_handoff([r["watches"] for r in records]),
        **{c: _per_handoff([r["watches_by_category"].get(c, 0) for r in records]) for c in sorted(categories)},
        "by_callback_mean": _mean_counter([r["watches_by_callback"] for r in records]),
    }
    notes = [r["election_notifications"] for r in records if "election_notifications" in r]
    if notes:
        result["watches_per_handoff"]["status_election_notifications"] = _per_handoff(notes)
    result["requests_per_handoff"] = {
        "total": _per_handoff([r["requests"] for r in records]),
        "by_type_mean": _mean_counter([r["requests_by_type"] for r in records]),
        "by_role_mean": _mean_counter([r["requests_by_role"] for r in records]),
    }
    late_requests = sum(sum(r["after_window"]["requests"].values()) for r in records)
    late_watches = sum(sum(r["after_window"]["watches"].values()) for r in records)
    result["after_window_total"] = {"requests": late_requests, "watches": late_watches}
    result["unsettled_handoffs"] = sum(1 for r in records if not r["settled"])
    result["successor_requests_before_elected"] = dict(
        Counter(",".join(r["successor_requests_before_elected"]) for r in records)
    )
    steps: dict[str, list[float]] = defaultdict(list)
    for r in records:
        for name, ms in r["successor_steps_ms"]:
            steps[name].append(ms)
    result["successor_steps_ms"] = {name: summary(values) for name, values in steps.items()}
    result["per_handoff"] = records


def run(hosts: str, sizes: tuple[int, ...] = (10, 100), handoffs: int = 30) -> dict[str, Any]:
    """All recipes at all sizes, one after the other in this process; JSON-serializable results."""
    if not hosts.startswith("127.0.0.1:"):
        raise ValueError("the benchmark only talks to a ZooKeeper on 127.0.0.1")
    counter = _WarningCounter()
    root = logging.getLogger()
    root.addHandler(counter)
    run_id = uuid.uuid4().hex[:8]
    started, wall = time.monotonic(), time.time()
    results: dict[str, Any] = {
        "hosts": hosts,
        "run_id": run_id,
        "started_at": wall,
        "session_timeout_s": SESSION_TIMEOUT,
        "settle_s": SETTLE,
        "handoffs_requested": handoffs,
        "python": sys.version.split()[0],
        "recipes": {},
    }
    try:
        results["warm_up"] = _warm_up(hosts, f"{BASE_PATH}/{run_id}/warm-up")
        for position, n in enumerate(sizes):
            # Rotate the order per N so that no recipe always runs first (a cold JVM, a cold process).
            order = RECIPES[position % len(RECIPES) :] + RECIPES[: position % len(RECIPES)]
            results.setdefault("order", {})[str(n)] = list(order)
            for recipe in order:
                counter.counts.clear()
                path = f"{BASE_PATH}/{run_id}/{recipe}-n{n}"
                log.info("running %s with N=%d on %s", recipe, n, path)
                outcome = run_recipe(recipe, hosts, n, handoffs, path)
                outcome["warnings"] = dict(counter.counts.most_common())
                results["recipes"].setdefault(recipe, {})[str(n)] = outcome
    finally:
        root.removeHandler(counter)
        _delete_path(hosts, f"{BASE_PATH}/{run_id}")
    results["elapsed_s"] = round(time.monotonic() - started, 1)
    return results


# --------------------------------------------------------------------- CLI


def format_table(results: dict[str, Any]) -> str:
    """One line per recipe and N: the figures a reader compares first."""
    header = (
        f"{'recipe':<18} {'N':>4} {'setup first/all ms':>19} {'handoff p50/p95/max ms':>23} "
        f"{'watch/h total (pred)':>21} {'req/h':>7} {'late':>5} {'overlap':>8} {'idle ldr req/s':>14}"
    )
    lines = [header, "-" * len(header)]
    by_n: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for recipe, per_n in results["recipes"].items():
        for n, r in per_n.items():
            by_n[n].append((recipe, r))
    for n in sorted(by_n, key=int):
        for recipe, r in by_n[n]:
            if "latency_ms" not in r or r.get("handoffs", 0) == 0:
                lines.append(f"{recipe:<18} {n:>4} error: {r.get('error')}")
                continue
            lat, setup, w = r["latency_ms"], r["setup"], r["watches_per_handoff"]
            lines.append(
                f"{recipe:<18} {n:>4} {setup['first_leader_ms']:>9.0f}/{setup['all_joined_ms']:<9.0f}"
                f" {lat['p50']:>7.1f}/{lat['p95']:>6.1f}/{lat['max']:<8.1f}"
                f" {w['total']['mean']:>12.1f} ({w['predecessor']['mean']:.1f})"
                f" {r['requests_per_handoff']['total']['mean']:>7.1f}"
                f" {r['after_window_total']['requests']:>5}"
                f" {r['overlap']['overlapping_pairs']:>8}"
                f" {r['idle']['leader_requests_per_s']:>14.1f}"
                + (f"  ERROR after {r['handoffs']} handoffs: {r['error']}" if r.get("error") else "")
            )
    lines.append(
        "watch/h: watch callbacks per handoff, all clients (predecessor watches only in brackets); "
        "req/h: requests per handoff window; late: requests after the windows, all handoffs; "
        f"overlap: pairs of overlapping leadership intervals. Run took {results['elapsed_s']:.0f} s."
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.recipes", description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", required=True, help="127.0.0.1:PORT of the ZooKeeper to use")
    parser.add_argument("--sizes", default="10,100", help="comma-separated N values (default 10,100)")
    parser.add_argument("--handoffs", type=int, default=30, help="handoffs per recipe and N (default 30)")
    parser.add_argument("--out", type=Path, default=Path("results/bench/recipes.json"), help="JSON results")
    parser.add_argument("--verbose", action="store_true", help="print library warnings as they happen")
    args = parser.parse_args(argv)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    if not args.verbose:  # library warnings are counted into the results instead
        handler.addFilter(lambda record: record.name.startswith("bench"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    logging.getLogger("bench").setLevel(logging.INFO)
    sizes = tuple(int(s) for s in args.sizes.split(",") if s.strip())
    results = run(args.hosts, sizes, args.handoffs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(format_table(results))
    print(f"results: {args.out}")
    return 1 if any("error" in r for per_n in results["recipes"].values() for r in per_n.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
