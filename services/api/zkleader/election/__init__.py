"""The election recipe. Knows kazoo and ZooKeeper; knows nothing of HTTP."""

from .acl import DigestCredentials, election_acl
from .core import ElectionCore, LeaderElection
from .fence import Fence
from .history import Term, TermHistory
from .identity import Identity
from .status import ElectionState, LeaderInfo, Liveness, Participant, Status
from .timings import ElectionTimings

__all__ = [
    "DigestCredentials",
    "ElectionCore",
    "ElectionState",
    "ElectionTimings",
    "Fence",
    "Identity",
    "LeaderElection",
    "LeaderInfo",
    "Liveness",
    "Participant",
    "Status",
    "Term",
    "TermHistory",
    "election_acl",
]
