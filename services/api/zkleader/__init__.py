"""Leader election on Apache ZooKeeper, served over HTTP.

`zkleader.election` is the recipe (kazoo only, no web); `zkleader.web` is the
Flask layer (no znodes); `zkleader.runtime` wires them together inside a
gunicorn process.
"""

from .election import Fence, LeaderElection  # replaced by the public facade at merge

__all__ = ["Fence", "LeaderElection"]
