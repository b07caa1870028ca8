"""Two elections on two clients of our own, written only against the public
API: exactly one leads; closing it makes the other lead within 1 s; the
closed one's client is still connected (the election never closes a client
it did not create). Prints one line per check; exits 1 if any fails.

    python examples/handover.py 127.0.0.1:2181      (or ZK_HOSTS=...)
"""

from __future__ import annotations

import os
import sys
import time
import uuid

from kazoo.client import KazooClient

from zkleader import LeaderElection


def check(ok: bool, line: str) -> bool:
    print(f"{'ok' if ok else 'FAILED'}: {line}")
    return ok


def main() -> int:
    hosts = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("ZK_HOSTS", "127.0.0.1:2181")
    path = f"/examples/handover-{uuid.uuid4().hex[:8]}"
    clients = [KazooClient(hosts=hosts, timeout=4.0) for _ in range(2)]
    for client in clients:
        client.start(timeout=10)
    elections = [LeaderElection(c, path, f"node-{i}") for i, c in enumerate(clients, 1)]
    results = []
    try:
        for election in elections:
            election.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(e.is_leader for e in elections):
            time.sleep(0.01)
        leaders = [e for e in elections if e.is_leader]
        results.append(check(len(leaders) == 1, f"exactly one leads: {[e.identifier for e in leaders]}"))
        if len(leaders) != 1:
            return 1
        leader = leaders[0]
        other = elections[1 - elections.index(leader)]
        closed_at = time.monotonic()
        leader.close()
        led = other.wait(timeout=1.0)
        took = time.monotonic() - closed_at
        results.append(check(led, f"{other.identifier} leads {took:.3f} s after {leader.identifier} closed"))
        results.append(check(leader.client.connected, f"{leader.identifier}'s client is still connected"))
    finally:
        for election in elections:
            election.close()
        for client in clients:
            client.stop()
            client.close()
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
