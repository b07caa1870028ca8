"""The three-line example: lead, say so, leave.

python examples/quickstart.py 127.0.0.1:2181      (or ZK_HOSTS=...)
"""

from __future__ import annotations

import os
import sys

from kazoo.client import KazooClient

from zkleader import LeaderElection


def main() -> int:
    hosts = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("ZK_HOSTS", "127.0.0.1:2181")
    client = KazooClient(hosts=hosts)
    client.start(timeout=10)
    try:
        with LeaderElection(client, "/examples/quickstart", "worker-1") as election:
            if not election.wait(timeout=10):
                print("not elected within 10 s")
                return 1
            print(f"leading: {election.leader}, fence {election.fence()}")
    finally:
        client.stop()
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
