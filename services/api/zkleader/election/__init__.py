"""The election recipe. Knows kazoo and ZooKeeper; knows nothing of HTTP."""

from .acl import DigestCredentials, election_acl
from .fence import Fence
from .history import Term, TermHistory
from .identity import Identity
from .recipe import ElectionTimings, LeaderElection
from .status import ElectionState, LeaderInfo, Participant, Status

__all__ = [
    "DigestCredentials",
    "ElectionState",
    "ElectionTimings",
    "Fence",
    "Identity",
    "LeaderElection",
    "LeaderInfo",
    "Participant",
    "Status",
    "Term",
    "TermHistory",
    "election_acl",
]
