"""A leader-only periodic job, fenced by its grant: ``run()`` blocks until
elected, then the job writes a heartbeat every 0.2 s in a transaction that
also checks the leader's member node, and stops the moment leadership is lost.

    python examples/leader_job.py 127.0.0.1:2181 [ROUNDS]     (or ZK_HOSTS=...)
"""

from __future__ import annotations

import os
import sys

from kazoo.client import KazooClient

from zkleader import LeaderElection, Leadership

HEARTBEAT = "/examples/job/heartbeat"


def main() -> int:
    hosts = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("ZK_HOSTS", "127.0.0.1:2181")
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    client = KazooClient(hosts=hosts)
    client.start(timeout=10)
    client.ensure_path(HEARTBEAT)

    def job(leadership: Leadership) -> int:
        print(f"elected with epoch {leadership.epoch}")
        written = 0
        while written < rounds and not leadership.lost.is_set():
            # The write commits only while our member node exists: a deposed
            # leader's write fails, whatever its clock says.
            transaction = client.transaction()
            transaction.check(leadership.fence.member_path, -1)
            transaction.set_data(HEARTBEAT, f"epoch {leadership.epoch} round {written}".encode())
            results = transaction.commit()
            if any(isinstance(r, Exception) for r in results):
                print(f"fenced out: {results}")
                break
            written += 1
            print(f"heartbeat {written} written under epoch {leadership.epoch}")
            leadership.lost.wait(0.2)  # sleeps, but wakes at once if leadership ends
        return written

    try:
        with LeaderElection(client, "/examples/job/election", "job-runner") as election:
            written = election.run(job)  # resigns once the job returns
        print(f"job done: {written} heartbeats")
        return 0 if written == rounds else 1
    finally:
        client.stop()
        client.close()


if __name__ == "__main__":
    sys.exit(main())
