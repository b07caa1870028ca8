"""The tunables of one participant (:class:`ElectionTimings`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ElectionTimings:
    """Tunables of one participant; every duration is a fraction of the negotiated session timeout T.

    Validated once, here. Defaults suit T from 1 s to 60 s.

    ``lease_fraction`` (default 0.5): how long after the start of a confirmed
    round trip the participant may still act as leader. Must be below 1 so
    that the lease ends before the server can expire the session and elect a
    successor. Larger: fewer false step-downs on a slow network; smaller: a
    frozen leader stops believing sooner, at the cost of more renewals.

    ``renew_fraction`` (default 0.125): how often the leader renews the lease
    with a ``sync`` round trip. Must be below ``lease_fraction``; the gap is
    how many renewals may fail before leadership lapses (4 by default).

    ``initial_backoff`` (default 0.1 s) and ``max_backoff`` (default 5 s):
    a failed check, or a failed write of the leader record, retries after
    ``initial_backoff`` doubling up to ``max_backoff``. Lower: faster
    recovery, more load on a struggling ensemble.

    ``enrol_tries`` (default 5): attempts of one find-or-create of our member
    node (kazoo retry, connection loss only) before the check fails and backs
    off as above. Each attempt first syncs and looks for our node, so retrying
    never creates a second one.

    ``record_tries`` (default 5): compare-and-set attempts of the leader
    record in one round before backing off; the record is retried until it
    holds for as long as we lead.

    ``liveness_fraction`` (default 1.0): how long the worker may go without
    progress (finishing a task, a timer, or one ZooKeeper call, answered or
    timed out) before :meth:`LeaderElection.liveness` reports it wedged. Every
    call is bounded by T, so a healthy worker never exceeds T by more than a
    few milliseconds; probes with retries (Docker's ``retries: 3``) absorb
    that. Larger: slower detection of a wedged worker; smaller than 1: a
    worker waiting on an unresponsive ensemble would count as wedged.
    """

    lease_fraction: float = 0.5
    renew_fraction: float = 0.125
    initial_backoff: float = 0.1
    max_backoff: float = 5.0
    enrol_tries: int = 5
    record_tries: int = 5
    liveness_fraction: float = 1.0

    def __post_init__(self) -> None:
        if not 0 < self.lease_fraction < 1:
            raise ValueError("lease_fraction must be in (0, 1): the lease must end before the session can")
        if not 0 < self.renew_fraction < self.lease_fraction:
            raise ValueError("renew_fraction must be positive and below lease_fraction")
        if not 0 < self.initial_backoff <= self.max_backoff:
            raise ValueError("initial_backoff must be positive and at most max_backoff")
        if self.enrol_tries < 1 or self.record_tries < 1:
            raise ValueError("enrol_tries and record_tries must be at least 1")
        if self.liveness_fraction <= 0:
            raise ValueError("liveness_fraction must be positive")
