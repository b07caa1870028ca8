"""The lease: renewals, revocation from another thread, the reported end of a term."""

from __future__ import annotations

import pytest

from zkleader.election import ElectionTimings
from zkleader.election.lease import Lease


def test_a_cut_is_reported_by_the_next_revoke_and_fences_older_round_trips() -> None:
    lease = Lease()
    assert lease.renew(started_at=10.0, duration=2.0)
    lease.cut(at=11.0)  # kazoo's thread: connection suspended
    assert lease.deadline is None
    lease.cut(at=11.5)  # then LOST: must not lose when the lease ended
    assert not lease.renew(started_at=10.9, duration=2.0), "a round trip begun before the cut renewed the lease"
    assert lease.deadline is None
    assert lease.revoke(at=13.0) == 11.0  # the worker reports the term's end
    assert lease.revoke(at=14.0) is None
    assert lease.renew(started_at=14.5, duration=2.0)  # a round trip begun after: a new lease
    assert lease.deadline == 16.5


def test_a_lease_that_ran_out_ended_at_its_deadline() -> None:
    lease = Lease()
    lease.renew(started_at=10.0, duration=2.0)
    assert lease.revoke(at=30.0) == 12.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lease_fraction": 1.0},
        {"renew_fraction": 0.6},
        {"initial_backoff": 0.0},
        {"initial_backoff": 6.0},
        {"enrol_tries": 0},
        {"record_tries": 0},
        {"liveness_fraction": 0.0},
    ],
)
def test_timings_are_validated_once(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        ElectionTimings(**kwargs)  # type: ignore[arg-type]
