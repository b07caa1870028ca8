"""Journal writers and the journal invariants, for the stack tests and the benchmark.

A :class:`Writer` posts one uniquely keyed entry per tick to each of its
targets (the gateway, or every instance's own port, deposed leaders
included), with no retries of its own, and records every outcome.
:func:`check_journal` then checks the journal against what the writers were
told and what the instances recorded (``GET /leader/history``).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from zkleader.testing.check import check_file

from .compose import REPO_ROOT
from .stack import INSTANCES, StackClient


@dataclass(frozen=True)
class Write:
    """One POST /journal as the client saw it. ``status`` 0: no HTTP answer."""

    target: str
    key: str
    sent_at: float
    done_at: float
    status: int
    seq: int | None = None
    epoch: int | None = None
    instance: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 201


@dataclass
class Writer:
    """Writes at ``rate`` ticks per second to each of ``targets`` (names for
    :meth:`StackClient.url`) until stopped."""

    stack: StackClient
    targets: list[str]
    rate: float = 20.0
    timeout: float = 15.0
    # False: send no Idempotency-Key (the gateway adds one); the message is still unique.
    keyed: bool = True
    prefix: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    writes: list[Write] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._threads: list[threading.Thread] = []
        self._sessions = {t: requests.Session() for t in self.targets}

    def start(self) -> Writer:
        for target in self.targets:
            thread = threading.Thread(target=self._run, args=(target,), name=f"writer-{target}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> list[Write]:
        self._stop.set()
        for thread in self._threads:
            thread.join(self.timeout + 5)
        return self.results()

    def results(self) -> list[Write]:
        with self._lock:
            return sorted(self.writes, key=lambda w: w.sent_at)

    def __enter__(self) -> Writer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self, target: str) -> None:
        url = f"{self.stack.url(target)}/journal"
        session = self._sessions[target]
        period = 1.0 / self.rate
        next_at = time.monotonic()
        while not self._stop.is_set():
            key = f"{self.prefix}-{target}-{next(self._counter)}"
            record = _post(session, url, target, key, self.timeout, self.keyed)
            with self._lock:
                self.writes.append(record)
            next_at += period
            self._stop.wait(max(0.0, next_at - time.monotonic()))
            next_at = max(next_at, time.monotonic() - period)  # no burst after a slow answer


def _post(session: requests.Session, url: str, target: str, key: str, timeout: float, keyed: bool) -> Write:
    sent = time.time()
    headers = {"Idempotency-Key": key} if keyed else {}
    try:
        response = session.post(url, json={"message": key}, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        return Write(target, key, sent, time.time(), 0, error=type(exc).__name__)
    done = time.time()
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code == 201:
        return Write(target, key, sent, done, 201, int(body["seq"]), int(body["epoch"]), str(body["instance"]))
    return Write(target, key, sent, done, response.status_code, error=str(body.get("error", response.text[:200])))


def read_journal(stack: StackClient, instance: str, timeout: float = 10.0) -> list[dict[str, Any]]:
    """The whole retained journal as ``instance`` answers it."""
    entries: list[dict[str, Any]] = []
    after = 0
    while True:
        response = requests.get(
            f"{stack.url(instance)}/journal", params={"after": after, "limit": 1000}, timeout=timeout
        )
        response.raise_for_status()
        page = response.json()["entries"]
        entries += page
        if len(page) < 1000:
            return entries
        after = page[-1]["seq"]


def check_journal(stack: StackClient, writes: Iterable[Write], instances: list[str] | None = None) -> dict[str, Any]:
    """Assert the journal invariants; return counts for the record.

    * every entry that got a 201 is in the journal, as answered;
    * in sequence order, epochs never decrease;
    * every entry's epoch is a term its instance held (``GET /leader/history``);
    * no Idempotency-Key (each writer's message is its key) appears twice;
    * every instance answers the same journal.
    """
    instances = instances or list(INSTANCES)
    journals = {name: read_journal(stack, name) for name in instances}
    reference = journals[instances[0]]
    for name, journal in journals.items():
        assert journal == reference, f"{name}'s journal differs from {instances[0]}'s"
    by_seq = {e["seq"]: e for e in reference}
    writes = list(writes)
    acknowledged = [w for w in writes if w.ok]
    for w in acknowledged:
        entry = by_seq.get(w.seq or -1)
        assert entry is not None, f"201'd write {w} is not in the journal"
        assert (entry["message"], entry["epoch"], entry["instance"]) == (w.key, w.epoch, w.instance), (w, entry)
    seqs = [e["seq"] for e in reference]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), "sequence numbers out of order or repeated"
    for before, after in itertools.pairwise(reference):
        assert after["epoch"] >= before["epoch"], f"epoch decreased: {before} -> {after}"
    held = {name: {t["epoch"] for t in stack.history(name)} for name in INSTANCES}
    for entry in reference:
        assert entry["epoch"] in held.get(entry["instance"], set()), f"{entry}: not a term {entry['instance']} held"
    repeated = [m for m, n in Counter(e["message"] for e in reference).items() if n > 1]
    assert not repeated, f"keys written twice: {repeated[:5]}"
    statuses = Counter(w.status for w in writes)
    return {
        "entries": len(reference),
        "writes": len(writes),
        "acknowledged": len(acknowledged),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "epochs": sorted({e["epoch"] for e in reference}),
    }


def unavailability(writes: Iterable[Write], fault_at: float, until: float | None = None) -> float | None:
    """Client-visible write unavailability around a fault: the longest time
    between two consecutive successes (by completion) from the last success
    before the fault to the first success after it. A fault takes effect a
    little after the command that causes it starts, so the longest gap that
    ends after ``fault_at`` (and starts before ``until``) is the one.
    None when there is no success on either side."""
    done = sorted(w.done_at for w in writes if w.ok)
    if not any(d <= fault_at for d in done) or not any(d > fault_at for d in done):
        return None
    end = float("inf") if until is None else until
    gaps = [b - a for a, b in itertools.pairwise(done) if b > fault_at and a < end]
    return round(max(gaps), 3) if gaps else None


def failures(writes: Iterable[Write], predicate: Callable[[Write], bool] | None = None) -> list[Write]:
    return [w for w in writes if not w.ok and (predicate is None or predicate(w))]


# --- Histories (issue 22): every write and read as the client saw it, checked
# with the journal model of zkleader.testing.check (docs/histories.md).

NOTHING_WRITTEN = frozenset({400, 409, 413, 415, 503})
"""Answers that guarantee the append did not happen; any other non-201 is unknown."""
HISTORIES = REPO_ROOT / "results" / "histories"


@dataclass(frozen=True)
class Read:
    """One whole-journal read (every page) from ``target``; ``entries`` None: no answer."""

    target: str
    sent_at: float
    done_at: float
    entries: list[dict[str, Any]] | None


@dataclass
class Reader:
    """Reads the whole journal from every one of ``targets`` every ``period`` seconds until stopped."""

    stack: StackClient
    targets: list[str]
    period: float = 1.0
    reads: list[Read] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(t,), daemon=True) for t in self.targets]

    def start(self) -> Reader:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> list[Read]:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)
        with self._lock:
            return list(self.reads)

    def read_once(self, target: str) -> Read:
        sent = time.time()
        try:
            entries: list[dict[str, Any]] | None = read_journal(self.stack, target)
        except (requests.RequestException, ValueError, KeyError):
            entries = None
        record = Read(target, sent, time.time(), entries)
        with self._lock:
            self.reads.append(record)
        return record

    def _run(self, target: str) -> None:
        while not self._stop.wait(self.period):
            self.read_once(target)


def history(writes: Iterable[Write], reads: Iterable[Read]) -> list[dict[str, Any]]:
    """The journal history (docs/histories.md) of these writes and reads, in time order."""
    events: list[dict[str, Any]] = []
    for w in writes:
        process = f"write-{w.target}-{w.key}"  # one process per append: outcomes never mix
        events.append({"process": process, "type": "invoke", "f": "append", "value": w.key, "time": w.sent_at})
        done: dict[str, Any] = {"process": process, "f": "append", "value": w.key, "time": w.done_at}
        if w.ok:
            done |= {"type": "ok", "seq": w.seq, "epoch": w.epoch}
        else:
            done |= {"type": "fail" if w.status in NOTHING_WRITTEN else "info", "status": w.status}
        events.append(done)
    for n, r in enumerate(reads):
        process = f"read-{r.target}-{n}"
        events.append({"process": process, "type": "invoke", "f": "read", "value": None, "time": r.sent_at})
        entries = (
            None
            if r.entries is None
            else [{"seq": e["seq"], "epoch": e["epoch"], "message": e["message"]} for e in r.entries]
        )
        kind = "info" if entries is None else "ok"
        events.append({"process": process, "type": kind, "f": "read", "value": entries, "time": r.done_at})
    return sorted(events, key=lambda e: (e["time"], e["type"] != "invoke"))


def check_history(name: str, writes: Iterable[Write], reads: Iterable[Read], folder: Path = HISTORIES) -> Path:
    """Save the history under ``folder`` and fail, naming the file, unless it checks."""
    folder.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name)
    path = folder / f"{safe}.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in history(writes, reads)))
    verdict = check_file("journal", path)
    assert verdict.linearizable, f"history {path} does not check:\n" + "\n".join(verdict.explanation)
    return path
