"""The asyncio form: wait for leadership without blocking the loop, then
follow the status changes until the election is closed.

    python examples/asyncio_leader.py 127.0.0.1:2181      (or ZK_HOSTS=...)
"""

from __future__ import annotations

import asyncio
import os
import sys

from kazoo.client import KazooClient

from zkleader.aio import LeaderElection


async def main(hosts: str) -> int:
    client = KazooClient(hosts=hosts)
    await asyncio.get_running_loop().run_in_executor(None, client.start)
    try:
        election = LeaderElection(client, "/examples/asyncio", "async-worker")
        async with election:

            async def follow() -> None:
                async for status in election.changes():
                    print(f"status: {status.state}")

            follower = asyncio.create_task(follow())
            if not await election.wait(timeout=10):
                print("not elected within 10 s")
                return 1
            print(f"leading: {election.leader}")
        await asyncio.wait_for(follower, 5)  # closing ended the iterator
        print("closed: changes() ended")
        return 0
    finally:
        client.stop()
        client.close()


if __name__ == "__main__":
    zk_hosts = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("ZK_HOSTS", "127.0.0.1:2181")
    sys.exit(asyncio.run(main(zk_hosts)))
