"""Leader election on Apache ZooKeeper, as a library and as an HTTP service.

The library's public API is what this package exports (``__all__``):
``from zkleader import LeaderElection, Fence``; docs/library.md shows how to
use it, and :mod:`zkleader.aio` is the asyncio form. The service
(``zkleader.web``, ``zkleader.runtime``, ``zkleader.cli``) is its first user
and imports only these names. ``zkleader.election`` is the core underneath
and not part of the public API.
"""

from .api import LeaderElection, Leadership, Listener
from .election import (
    DigestCredentials,
    ElectionState,
    ElectionTimings,
    Fence,
    Identity,
    LeaderInfo,
    Liveness,
    Participant,
    Status,
    Term,
    TermHistory,
    election_acl,
)
from .election.lease import now as lease_clock
from .election.lease import wall_time_of
from .election.switchover import (
    Requested,
    SwitchoverRefused,
    SwitchoverRequester,
    SwitchoverResult,
    designation_duration,
    switchover_wait,
)

SwitchoverRequest = Requested
"""A switchover designation this participant created (what :meth:`LeaderElection.request_switchover` returns)."""

__all__ = [
    "DigestCredentials",
    "ElectionState",
    "ElectionTimings",
    "Fence",
    "Identity",
    "LeaderElection",
    "LeaderInfo",
    "Leadership",
    "Listener",
    "Liveness",
    "Participant",
    "Requested",
    "Status",
    "SwitchoverRefused",
    "SwitchoverRequest",
    "SwitchoverRequester",
    "SwitchoverResult",
    "Term",
    "TermHistory",
    "designation_duration",
    "election_acl",
    "lease_clock",
    "switchover_wait",
    "wall_time_of",
]
