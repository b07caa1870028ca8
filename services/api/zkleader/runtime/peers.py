"""Who claims leadership, seen from this instance: the peer poller.

Runs in the participant's process (beside the election). Every ``interval``
it lists the election's members in ZooKeeper (their advertised addresses),
asks every other member's ``GET /leader`` with a short timeout, and writes
one :class:`ClusterReport` to a small file of its own that every gunicorn
worker reads (as the election snapshot, written atomically). ZooKeeper calls
run on a single helper thread with a bounded wait, so a ZooKeeper outage
never stops the peer polls: members last seen keep being asked, and the
report says what could not be seen.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures import wait as wait_all
from dataclasses import asdict, dataclass
from typing import Any

from .. import Participant, Status
from ..cluster.report import ClusterReport, ClusterTerm, GapHistogram, MemberReport, listed_member, own_member_report
from .atomic import write_atomically

log = logging.getLogger("zkleader.peers")

GAP_BOUNDS = (0.5, 1.0, 2.0, 4.0, 6.0, 8.0, 10.0, 15.0, 30.0, 60.0, 120.0)
"""Histogram buckets (seconds) of leaderless gaps: around the session timeout."""
FORGET_AFTER = 600.0
"""A member absent from the election this long (seconds) is no longer polled."""

Fetch = Callable[[str, float], dict[str, Any]]
Listing = tuple[list[Participant], list[ClusterTerm] | None, str | None]


def fetch_leader(address: str, timeout: float) -> dict[str, Any]:
    """``GET {address}/leader`` (with the lease left) as JSON; raises on any failure or non-200.

    Only http(s) addresses are followed: the address comes from a member node."""
    if not address.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) address: {address!r}")
    with urllib.request.urlopen(f"{address.rstrip('/')}/leader?include=lease", timeout=timeout) as response:
        body: dict[str, Any] = json.loads(response.read())
    return body


class GapTracker:
    """Leaderless gaps: from the first poll that finds no claimant to the first
    that finds one again (so a gap is known to within one poll interval).
    Nothing is counted before the first leader was seen (start-up)."""

    def __init__(self, bounds: tuple[float, ...] = GAP_BOUNDS) -> None:
        self._bounds = bounds
        self._counts = [0] * len(bounds)
        self._total = 0.0
        self._count = 0
        self._since: float | None = None
        self._seen_leader = False

    @property
    def since(self) -> float | None:
        return self._since

    def observe(self, claimants: int, now: float) -> float | None:
        """Feed one poll; returns the gap that just closed, if any."""
        if claimants == 0:
            if self._seen_leader and self._since is None:
                self._since = now
            return None
        self._seen_leader = True
        if self._since is None:
            return None
        gap, self._since = max(0.0, now - self._since), None
        self._total += gap
        self._count += 1
        for i, bound in enumerate(self._bounds):
            if gap <= bound:
                self._counts[i] += 1
        return gap

    def histogram(self) -> GapHistogram:
        return GapHistogram(self._bounds, tuple(self._counts), self._total, self._count)


@dataclass
class _Known:
    address: str
    last_listed: float


class PeerPoller:
    """Polls the peers every ``interval`` seconds; see the module docstring.

    ``participants`` and ``terms`` make ZooKeeper calls (run on the helper
    thread); ``status`` is this participant's own in-memory snapshot;
    ``publish`` receives every report (the file writer in production).
    """

    def __init__(
        self,
        *,
        instance: str,
        address: str,
        status: Callable[[], Status],
        participants: Callable[[], list[Participant]],
        publish: Callable[[ClusterReport], None],
        terms: Callable[[], list[ClusterTerm]] | None = None,
        fetch: Fetch = fetch_leader,
        interval: float = 1.0,
        timeout: float = 0.5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 0 < timeout < interval:
            raise ValueError("the poll timeout must be positive and shorter than the interval")
        self._instance = instance
        self._address = address
        self._status = status
        self._participants = participants
        self._terms = terms
        self._publish = publish
        self._fetch = fetch
        self._interval = interval
        self._timeout = timeout
        self._clock = clock
        self._gaps = GapTracker()
        self._known: dict[str, _Known] = {}
        self._last_members: list[Participant] = []
        self._listed_at: float | None = None
        self._last_terms: list[ClusterTerm] = []
        self._zk = ThreadPoolExecutor(1, thread_name_prefix="peers-zk")
        self._http = ThreadPoolExecutor(8, thread_name_prefix="peers-http")
        self._listing: Future[Listing] | None = None
        self._listing_started = 0.0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peer-poller", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def known_instances(self) -> set[str]:
        """Every instance listed in the election within ``FORGET_AFTER``."""
        return set(self._known.copy())  # copied at once: the poller thread adds to it

    def wake(self) -> None:
        """Poll again now (this instance's own state changed); never blocks."""
        self._wake.set()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(self._interval + self._timeout * 2)
        self._zk.shutdown(wait=False, cancel_futures=True)
        self._http.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self._publish(self.poll_once())
            except Exception:  # the poller must survive anything (logged)
                log.exception("peer poll failed")
            self._wake.wait(max(0.0, self._interval - (time.monotonic() - started)))
            self._wake.clear()

    # ------------------------------------------------------------ one round

    def poll_once(self) -> ClusterReport:
        zookeeper_error, terms_error = self._list()
        now = self._clock()
        listed = {p.instance: p for p in self._last_members if p.instance}
        own = self._own_report(listed.get(self._instance), now)
        peers = {
            name: known.address
            for name, known in self._known.items()
            if name != self._instance and now - known.last_listed < FORGET_AFTER
        }
        answers = self._ask(peers)
        members = [own]
        for name, address in peers.items():
            members.append(self._peer_report(name, address, listed.get(name), answers[name], now))
        order = {p.instance: i for i, p in enumerate(self._last_members)}
        members.sort(key=lambda m: (order.get(m.instance, len(order)), m.instance))
        claimants = sum(1 for m in members if m.reported_is_leader)
        gap = self._gaps.observe(claimants, now)
        if gap is not None:
            log.info("leaderless gap ended", extra={"gap_seconds": round(gap, 3)})
        if claimants > 1:
            log.error("more than one instance claims leadership: %s", [m.instance for m in members])
        return ClusterReport(
            observer=self._instance,
            polled_at=now,
            zookeeper_error=zookeeper_error,
            listed_at=self._listed_at,
            participants=list(self._last_members),
            members=members,
            gaps=self._gaps.histogram(),
            leaderless_since=self._gaps.since,
            terms=list(self._last_terms),
            terms_error=terms_error,
        )

    def _list(self) -> tuple[str | None, str | None]:
        """Membership (and term log) from ZooKeeper, waiting at most the poll timeout."""
        if self._listing is None:
            self._listing = self._zk.submit(self._read_zookeeper)
            self._listing_started = time.monotonic()
        try:
            members, terms, terms_error = self._listing.result(timeout=self._timeout)
        except FutureTimeout:
            waited = time.monotonic() - self._listing_started
            if waited < 1.5 * self._interval:
                return None, None  # one slow round: keep the last listing, say nothing yet
            return f"ZooKeeper has not answered for {waited:.1f}s", None
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            self._listing = None
            return f"cannot list the election: {type(exc).__name__}: {exc}".rstrip(": "), None
        self._listing = None
        now = self._clock()
        self._last_members = members
        self._listed_at = now
        for p in members:
            if p.instance and p.address:
                self._known[p.instance] = _Known(p.address, now)
        if terms is not None:
            self._last_terms = terms
        return None, terms_error

    def _read_zookeeper(self) -> Listing:
        members = self._participants()
        if self._terms is None:
            return members, None, None
        try:
            return members, self._terms(), None
        except Exception as exc:  # noqa: BLE001 - the membership is still worth showing
            return members, None, f"cannot read the term log: {type(exc).__name__}: {exc}".rstrip(": ")

    def _ask(self, peers: dict[str, str]) -> dict[str, dict[str, Any] | Exception]:
        pending = {name: self._http.submit(self._fetch, address, self._timeout) for name, address in peers.items()}
        wait_all(list(pending.values()), timeout=self._timeout + 0.2)
        answers: dict[str, dict[str, Any] | Exception] = {}
        for name, future in pending.items():
            if not future.done():
                future.cancel()
                answers[name] = TimeoutError(f"no answer within {self._timeout}s")
                continue
            try:
                answers[name] = future.result()
            except Exception as exc:  # noqa: BLE001 - an unreachable peer is what we report
                answers[name] = exc
        return answers

    def _own_report(self, listed: Participant | None, now: float) -> MemberReport:
        return own_member_report(self._instance, self._address, self._status(), listed, now)

    @staticmethod
    def _peer_report(
        name: str, address: str, listed: Participant | None, answer: dict[str, Any] | Exception, now: float
    ) -> MemberReport:
        base = listed_member(name, address, listed, now)
        if isinstance(answer, Exception):
            return MemberReport(**{**asdict(base), "error": _describe(answer)})
        leader = answer.get("leader")
        lease = answer.get("leaseRemaining")
        epoch = answer.get("epoch")
        return MemberReport(
            **{
                **asdict(base),
                "reachable": True,
                "reported_is_leader": bool(answer.get("isLeader")),
                "reported_state": str(answer.get("state")),
                "reported_epoch": epoch if isinstance(epoch, int) else None,
                "reported_leader": leader.get("instance") if isinstance(leader, dict) else None,
                "lease_left": float(lease) if isinstance(lease, int | float) else None,
            }
        )


def _describe(exc: Exception) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code}"
    if isinstance(exc, urllib.error.URLError):
        return f"unreachable: {exc.reason}"
    return f"{type(exc).__name__}: {exc}".rstrip(": ")


# ---------------------------------------------------------------- the file


def encode(report: ClusterReport) -> bytes:
    raw = asdict(report)
    return json.dumps(raw, separators=(",", ":")).encode()


def decode(data: bytes) -> ClusterReport:
    raw = json.loads(data)
    gaps = raw["gaps"]
    return ClusterReport(
        observer=raw["observer"],
        polled_at=raw["polled_at"],
        zookeeper_error=raw["zookeeper_error"],
        listed_at=raw["listed_at"],
        participants=[Participant(**p) for p in raw["participants"]],
        members=[MemberReport(**m) for m in raw["members"]],
        gaps=GapHistogram(tuple(gaps["bounds"]), tuple(gaps["counts"]), gaps["total"], gaps["count"]),
        leaderless_since=raw["leaderless_since"],
        terms=[ClusterTerm(**t) for t in raw["terms"]],
        terms_error=raw["terms_error"],
    )


def write(path: str, report: ClusterReport) -> None:
    """Atomically replace the report file (write, then rename)."""
    write_atomically(path, encode(report), prefix=".peers-")


class PeersFile:
    """Reads the report file in a gunicorn worker, on every call.

    The file is a few KB, replaced atomically by the poller. No cache keyed on
    ``(st_ino, st_mtime_ns)``: ``mkstemp`` can reuse the inode ``os.replace``
    just freed within one coarse mtime tick, and ``/cluster`` would go stale
    (the hazard :class:`~zkleader.runtime.view.SharedView` rules out too).
    """

    def __init__(self, path: str) -> None:
        self._path = path
        self._last: ClusterReport | None = None

    def report(self) -> ClusterReport | None:
        """The latest report; None before the first; the last good one if the file can't be read."""
        try:
            with open(self._path, "rb") as src:
                self._last = decode(src.read())
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            pass
        return self._last


def report_path(state_dir: str) -> str:
    """The report file, beside the election snapshot in STATE_DIR."""
    return os.path.join(state_dir, "peers.json")
