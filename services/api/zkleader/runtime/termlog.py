"""Writes the cluster term log off the election worker thread.

Election callbacks run on the election worker and must not block, so they
only put a job on this writer's queue; its own thread makes the ZooKeeper
calls, one job at a time, and a failure is logged, never raised into the
election.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from kazoo.exceptions import ConnectionClosedError, KazooException

from .. import Fence
from ..cluster.report import ClusterTerm
from ..cluster.term_log import ClusterTermLog, FencedOut

log = logging.getLogger("zkleader.terms")

CLEAN_ENDS = frozenset({"resigned", "closed", "switchover"})
"""Revocation reasons that are this instance's own decision: only these are
recorded as an end (any other end is seen by the successor's grant)."""


@dataclass(frozen=True)
class _Job:
    run: Callable[[], None]
    what: str
    done: Future[None] | None = None


class TermLogWriter:
    """Queue and thread in front of a :class:`ClusterTermLog`."""

    def __init__(self, term_log: ClusterTermLog, instance: str, address: str, attempts: int = 3) -> None:
        self._log = term_log
        self._instance = instance
        self._address = address
        self._attempts = attempts
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._ended: set[int] = set()
        self._thread = threading.Thread(target=self._run, name="term-log-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def granted(self, fence: Fence | None, elected_at: float) -> None:
        """From the ``on_elected`` callback (election worker): never blocks."""
        if fence is None:
            log.warning("elected but no fence to record the grant with (leadership already gone)")
            return
        term = ClusterTerm(fence.epoch, self._instance, self._address, elected_at)
        self._jobs.put(_Job(lambda: self._log.record_grant(fence, term), f"grant of epoch {fence.epoch}"))

    def ended(self, epoch: int | None, reason: str, ended_at: float) -> Future[None] | None:
        """From ``on_revoked`` (or before a close): records clean ends only."""
        if epoch is None or reason not in CLEAN_ENDS or epoch in self._ended:
            return None
        self._ended.add(epoch)
        done: Future[None] = Future()

        def write() -> None:
            self._log.record_end(epoch, self._instance, ended_at, reason)

        self._jobs.put(_Job(write, f"end of epoch {epoch}", done))
        return done

    def flush(self, timeout: float = 1.0) -> bool:
        """Wait (bounded) until the jobs queued so far are done; False on timeout.

        Before a deliberate hand-over (resign), so that the grant is written
        while our member node, which fences it, still exists."""
        done: Future[None] = Future()
        self._jobs.put(_Job(lambda: None, "flush", done))
        try:
            done.result(timeout=timeout)
        except TimeoutError:
            return False
        return True

    def close(self, timeout: float = 2.0) -> None:
        """Finish queued jobs (bounded by ``timeout``), then stop."""
        self._jobs.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                self._attempt(job)
            finally:
                if job.done is not None and not job.done.done():
                    job.done.set_result(None)

    def _attempt(self, job: _Job) -> None:
        for attempt in range(1, self._attempts + 1):
            try:
                job.run()
                return
            except (FencedOut, ConnectionClosedError) as exc:
                log.warning("term log: %s not recorded: %s", job.what, exc)
                return
            except (KazooException, RuntimeError, OSError) as exc:
                if attempt == self._attempts:
                    log.warning("term log: %s not recorded after %d attempts: %s", job.what, attempt, exc)
                    return
                time.sleep(0.2 * attempt)
            except Exception:  # the writer must survive anything (logged)
                log.exception("term log: %s failed", job.what)
                return
